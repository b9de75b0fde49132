// The scheduler inside a real server: pods are bound to nodes that fit, and a pod that
// fits nowhere says why, as Kubernetes words it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, eventually, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const node = (name: string, cpu: string) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    capacity: { cpu, memory: '8Gi', pods: '110' }, allocatable: { cpu, memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
  },
});
const pod = (name: string, cpu: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
});

test('pods are bound to nodes with room; an oversized pod gets FailedScheduling', async () => {
  for (const n of ['n1', 'n2', 'n3']) {
    const created = await s.request('POST', '/api/v1/nodes', { body: node(n, '2') });
    assert.equal(created.status, 201, created.text);
    // Status is a subresource: write it as a kubelet would (a patch: controllers such as
    // node IPAM may have written the node since it was created).
    const st = await s.request('PATCH', `/api/v1/nodes/${n}/status`, { rawBody: JSON.stringify({ status: node(n, '2').status }), contentType: 'application/merge-patch+json' });
    assert.equal(st.status, 200, st.text);
  }
  for (let i = 0; i < 3; i++) assert.equal((await s.request('POST', '/api/v1/namespaces/default/pods', { body: pod(`fits-${i}`, '1500m') })).status, 201);
  const nodes = await eventually(async () => {
    const list = (await s.request('GET', '/api/v1/namespaces/default/pods')).json.items;
    const bound = list.filter((p: any) => p.metadata.name.startsWith('fits-') && p.spec.nodeName);
    return bound.length === 3 ? bound.map((p: any) => p.spec.nodeName) : undefined;
  }, 10_000, 'three pods bound');
  assert.equal(new Set(nodes).size, 3, 'one 1.5-cpu pod per 2-cpu node');

  await s.request('POST', '/api/v1/namespaces/default/pods', { body: pod('too-big', '4') });
  const cond = await eventually(async () => {
    const p = (await s.request('GET', '/api/v1/namespaces/default/pods/too-big')).json;
    return p.status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False');
  }, 10_000, 'PodScheduled=False');
  assert.equal(cond.reason, 'Unschedulable');
  assert.match(cond.message, /^0\/3 nodes are available: 3 Insufficient cpu\./);
  const events = await eventually(async () => {
    const list = (await s.request('GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dtoo-big')).json.items;
    return list.find((e: any) => e.reason === 'FailedScheduling');
  }, 10_000, 'FailedScheduling event');
  assert.equal(events.type, 'Warning');
  const describe = await s.kubectlOk(['describe', 'pod', 'too-big']);
  assert.match(describe, /FailedScheduling/);

  // Room appears: the parked pod is retried and bound.
  await s.request('POST', '/api/v1/nodes', { body: node('n4', '8') });
  await s.request('PATCH', '/api/v1/nodes/n4/status', { rawBody: JSON.stringify({ status: node('n4', '8').status }), contentType: 'application/merge-patch+json' });
  await eventually(async () => (await s.request('GET', '/api/v1/namespaces/default/pods/too-big')).json.spec.nodeName === 'n4', 15_000, 'bound after a node was added');
});
