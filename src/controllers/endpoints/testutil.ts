// Test helpers shared by the Endpoints and EndpointSlice tests: pods the way a kubelet
// would report them, services with selectors.
import type { KObject } from '../../api/object.ts';
import type { TestBed } from '../testing.ts';

export interface PodOptions {
  labels?: Record<string, string>;
  ip?: string;
  ready?: boolean;
  nodeName?: string;
  ports?: { name: string; containerPort: number; protocol?: string }[];
  hostname?: string;
  subdomain?: string;
  namespace?: string;
}

export async function makePod(tb: TestBed, name: string, o: PodOptions = {}): Promise<KObject> {
  const pods = tb.api.resource('', 'v1', 'pods');
  const created = await pods.create({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? { app: 'web' } },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: 'c', image: 'img', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }],
    },
  });
  if (o.ip === undefined) return created;
  return setPodStatus(tb, created, { ip: o.ip, ready: o.ready ?? true });
}

/** Plays the kubelet: Running with an IP, Ready as asked. */
export async function setPodStatus(tb: TestBed, pod: KObject, s: { ip: string; ready: boolean }): Promise<KObject> {
  const pods = tb.api.resource('', 'v1', 'pods');
  const current = await pods.get(pod.metadata.namespace, pod.metadata.name!);
  const now = new Date().toISOString();
  current.status = {
    ...(current.status as object), phase: 'Running', podIP: s.ip, podIPs: [{ ip: s.ip }],
    conditions: [
      { type: 'Ready', status: s.ready ? 'True' : 'False', lastTransitionTime: now },
      { type: 'ContainersReady', status: s.ready ? 'True' : 'False', lastTransitionTime: now },
    ],
  };
  return pods.updateStatus(current);
}

export async function makeService(tb: TestBed, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<KObject> {
  return tb.api.resource('', 'v1', 'services').create({
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec,
  });
}
