// Learning the cluster's API servers from the cluster itself, as k3s's agent does: after
// connecting to the server it was given, the client watches the `kubernetes` Service's
// EndpointSlice in `default` (every live API server writes its address and port there)
// and keeps its failover list equal to the configured servers plus those addresses. The
// watch goes through the same failover client, so it survives the loss of a server too.
import type { KObject } from '../api/object.ts';
import type { Logger } from '../util/log.ts';
import { createLogger } from '../util/log.ts';
import { Reflector } from './reflector.ts';
import type { ServerPool } from './failover.ts';
import type { ApiClient } from './types.ts';

interface SliceLike {
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; port?: number }[];
}

/** `https://addr:port` for every ready endpoint of the slices (the `https` port, else the first). */
export function serversFromSlices(slices: Iterable<KObject>): string[] {
  const out: string[] = [];
  for (const obj of slices) {
    const slice = obj as unknown as SliceLike;
    const port = (slice.ports ?? []).find((p) => p.name === 'https')?.port ?? slice.ports?.[0]?.port;
    if (!port) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const addr of ep.addresses ?? []) {
        const url = `https://${addr.includes(':') ? `[${addr}]` : addr}:${port}`;
        if (!out.includes(url)) out.push(url);
      }
    }
  }
  return out.sort();
}

export interface LearnServersOptions {
  log?: Logger;
}

/** Starts following the API server list into `pool`; returns a stop function. */
export function learnApiServers(client: ApiClient & { failover: ServerPool }, opts: LearnServersOptions = {}): () => void {
  const log = opts.log ?? createLogger({ component: 'failover' });
  const slices = new Map<string, KObject>();
  const publish = (): void => {
    const urls = serversFromSlices(slices.values());
    // An empty list (no slice yet, or every server not ready) teaches nothing: keep what we have.
    if (urls.length) client.failover.setLearned(urls);
  };
  const reflector = new Reflector({
    resource: client.resource('discovery.k8s.io', 'v1', 'endpointslices'),
    namespace: 'default',
    labelSelector: 'kubernetes.io/service-name=kubernetes',
    name: 'apiserver-endpoints',
    log: log.child('apiserver-endpoints'),
    sink: {
      replace(items) {
        slices.clear();
        for (const s of items) slices.set(s.metadata?.name ?? '', s);
        publish();
      },
      apply(type, obj) {
        if (type === 'DELETED') slices.delete(obj.metadata?.name ?? '');
        else slices.set(obj.metadata?.name ?? '', obj);
        publish();
      },
    },
  });
  reflector.start();
  return () => reflector.stop();
}
