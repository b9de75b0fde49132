// Test helpers for workload controllers: there is no node agent in a test bed, so tests
// play the kubelet through the API (pod status writes), and wait for controllers to settle.
import type { KObject } from '../../api/object.ts';
import type { TestBed } from '../testing.ts';
import { timestamp } from './status.ts';

export const pods = (bed: TestBed) => bed.api.resource('', 'v1', 'pods');

/** Pods in a namespace that are not being deleted, optionally filtered by a label. */
export async function livePods(bed: TestBed, namespace = 'default', label?: [string, string]): Promise<KObject[]> {
  const { items } = await pods(bed).list(namespace);
  return items.filter((p) => !p.metadata.deletionTimestamp && (!label || p.metadata.labels?.[label[0]] === label[1]));
}

/** What a kubelet reports for a running pod: Running, and Ready (or not) since `at`. */
export async function setPodReady(bed: TestBed, pod: KObject, ready = true, at: number = Date.now()): Promise<KObject> {
  const fresh = await pods(bed).get(pod.metadata.namespace, pod.metadata.name!);
  const t = timestamp(at);
  fresh.status = {
    ...(fresh.status as object),
    phase: 'Running',
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: t },
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: t },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: t },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
    ],
  };
  return pods(bed).updateStatus(fresh);
}

/** Resolves once every given controller has had nothing to do for `quietMs`. */
export async function settled(bed: TestBed, controllers: { idle: boolean }[], quietMs = 60, timeoutMs = 5000): Promise<void> {
  let quietSince = Date.now();
  await bed.until(() => {
    if (!controllers.every((c) => c.idle)) { quietSince = Date.now(); return false; }
    return Date.now() - quietSince >= quietMs;
  }, timeoutMs, 'controllers to settle');
}

export function podTemplate(labels: Record<string, string>, image = 'nginx:1.25'): Record<string, unknown> {
  return { metadata: { labels }, spec: { containers: [{ name: 'app', image }] } };
}
