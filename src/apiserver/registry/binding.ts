// Binding a pod to a node (pods/binding): set spec.nodeName once and mark PodScheduled.
import type { ResourceInfo } from '../../api/scheme.ts';
import { conflict } from '../errors.ts';
import type { Registry } from './registry.ts';

export async function bindPod(registry: Registry, pods: ResourceInfo, ns: string, name: string, nodeName: string, fieldManager: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await registry.guaranteedUpdate(pods, ns, name, (pod) => {
    const spec = pod.spec as { nodeName?: string };
    if (pod.metadata.deletionTimestamp) throw conflict(pods, name, 'pod is being deleted, cannot be assigned to a host');
    if (spec.nodeName) throw conflict(pods, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = nodeName;
    const status = (pod.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] };
    const conditions = (status.conditions ??= []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
    status.conditions = conditions;
    return pod;
  }, { fieldManager, subresource: 'binding' });
}
