// ResourceQuota through kubectl: creates past a hard limit are refused with Kubernetes'
// message, pods must state what a compute quota tracks, racing creates cannot both take
// the last unit, and the quota's status shows what is used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, eventually, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const pod = (name: string, cpu?: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'q2' },
  spec: { containers: [{ name: 'c', image: 'busybox', ...(cpu ? { resources: { requests: { cpu }, limits: { cpu } } } : {}) }] },
});

test('object counts: the third ConfigMap over a hard limit of 2 (plus the root CA one) is refused; racing creates too', async () => {
  await s.kubectlOk(['create', 'namespace', 'q']);
  await s.kubectlOk(['create', 'quota', 'counts', '-n', 'q', '--hard=configmaps=3,count/deployments.apps=1,services.nodeports=1']);
  // kube-root-ca.crt is one of the three; wait until it exists so the count is known.
  await eventually(async () => (await s.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'q'])).code === 0);
  await s.kubectlOk(['create', 'configmap', 'one', '-n', 'q']);
  const results = await Promise.all(['two', 'three', 'four'].map((n) => s.kubectl(['create', 'configmap', n, '-n', 'q'])));
  assert.equal(results.filter((r) => r.code === 0).length, 1, 'exactly one of three racing creates fits');
  const refused = results.find((r) => r.code !== 0)!;
  assert.match(refused.stderr, /configmaps "\w+" is forbidden: exceeded quota: counts, requested: configmaps=1, used: configmaps=3, limited: configmaps=3/);

  await s.kubectlOk(['create', 'deployment', 'a', '--image=busybox', '-n', 'q']);
  const second = await s.kubectl(['create', 'deployment', 'b', '--image=busybox', '-n', 'q']);
  assert.match(second.stderr, /exceeded quota: counts, requested: count\/deployments.apps=1, used: count\/deployments.apps=1, limited: count\/deployments.apps=1/);
  const np = await s.kubectl(['create', 'service', 'nodeport', 'np', '--tcp=80:80,81:81', '-n', 'q']);
  assert.match(np.stderr, /requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1/);

  // Deleting frees the unit.
  await s.kubectlOk(['delete', 'configmap', 'one', '-n', 'q']);
  await s.kubectlOk(['create', 'configmap', 'five', '-n', 'q']);
});

test('compute: pods must state what is tracked; requests add up; status shows the usage', async () => {
  await s.kubectlOk(['create', 'namespace', 'q2']);
  await s.kubectlOk(['create', 'quota', 'compute', '-n', 'q2', '--hard=requests.cpu=1,limits.cpu=1,pods=5']);
  const bare = await s.kubectl(['create', '-f', '-'], { input: pod('bare') });
  assert.match(bare.stderr, /pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: c; requests.cpu for: c/);
  await s.kubectlOk(['create', '-f', '-'], { input: pod('p1', '600m') });
  const over = await s.kubectl(['create', '-f', '-'], { input: pod('p2', '500m') });
  assert.match(over.stderr, /exceeded quota: compute, requested: limits.cpu=500m,requests.cpu=500m, used: limits.cpu=600m,requests.cpu=600m, limited: limits.cpu=1,requests.cpu=1/);
  await s.kubectlOk(['create', '-f', '-'], { input: pod('p3', '400m') });
  await eventually(async () => {
    const q = JSON.parse(await s.kubectlOk(['get', 'quota', 'compute', '-n', 'q2', '-o', 'json']));
    const sorted = (o: Record<string, string> = {}) => JSON.stringify(Object.entries(o).sort());
    return sorted(q.status?.hard) === sorted({ 'limits.cpu': '1', pods: '5', 'requests.cpu': '1' })
      && sorted(q.status?.used) === sorted({ 'limits.cpu': '1', pods: '2', 'requests.cpu': '1' });
  }, 10_000);
  assert.match(await s.kubectlOk(['describe', 'quota', 'compute', '-n', 'q2']), /requests\.cpu\s+1\s+1/);
});
