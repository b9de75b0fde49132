// What every server does at start (default namespaces, RBAC policy, the kubernetes and
// kube-dns Services, the cluster ConfigMap, the IngressClass) is read-then-write, so
// several servers starting at once on one datastore can lose a race: a create that
// another made first (409 AlreadyExists, tolerated inside), or an update from a read that
// another server's write made stale (409 Conflict). Each step is idempotent, so a lost
// race is retried from the read; the next attempt sees the winner's object.
export async function retryConflicts<T>(what: string, step: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await step();
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || i >= attempts) {
        if (err instanceof Error && !err.message.includes(what)) err.message = `${what}: ${err.message}`;
        throw err;
      }
      // A moment for the winner's write to reach this server's watch cache.
      await new Promise((r) => setTimeout(r, 100 * i + Math.random() * 200));
    }
  }
}
