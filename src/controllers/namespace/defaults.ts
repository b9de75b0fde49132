// The namespaces every cluster has.
import type { InProcessClient } from '../../client/inprocess.ts';

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureDefaultNamespaces(client: InProcessClient): Promise<void> {
  const namespaces = client.resource('', 'v1', 'namespaces');
  for (const name of DEFAULT_NAMESPACES) {
    if (await namespaces.tryGet(undefined, name)) continue;
    try {
      await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}
