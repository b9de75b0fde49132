// Node loss on a real server: a `skiff sim` process is stopped (SIGTERM) in the middle of a
// rollout; its nodes stop heartbeating, the node lifecycle controller marks them Unknown
// (NotReady) and taints them unreachable, their pods are evicted after the template's
// tolerationSeconds, and the Deployment finishes its rollout on the nodes that are left.
//
// The server runs with a 10 s node-monitor grace period (40 s by default) to keep the
// test short.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, eventually, type TestServer } from '../helpers/cluster.ts';
import { startSim, type TestSim } from '../helpers/sim.ts';

let s: TestServer;
let stay: TestSim;
let lost: TestSim;
const SIM_ARGS = ['--lease-interval', '2', '--status-interval', '5'];

before(async () => {
  s = await startServer({ args: ['--node-monitor-grace-period', '10s'] });
  stay = await startSim(s, { nodes: 2, prefix: 'stay', args: SIM_ARGS });
  lost = await startSim(s, { nodes: 1, prefix: 'lost', args: SIM_ARGS });
  await eventually(async () => {
    const nodes = (await s.request('GET', '/api/v1/nodes')).json.items;
    return nodes.length === 3 && nodes.every((n: any) => n.spec.podCIDR);
  }, 15_000, 'three sim nodes with pod CIDRs');
});
after(async () => {
  await lost?.stop();
  await stay?.stop();
  await s?.stop();
});

const TOLERATE_5S = [
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
];

const deployment = JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'spread' },
  spec: {
    replicas: 6, selector: { matchLabels: { app: 'spread' } },
    template: {
      metadata: { labels: { app: 'spread' } },
      spec: {
        containers: [{ name: 'c', image: 'nginx:1.26', resources: { requests: { cpu: '100m' } } }],
        tolerations: TOLERATE_5S,
        // Spread over the nodes, so the node we stop has pods on it.
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'spread' } } }],
      },
    },
  },
});

async function pods(): Promise<any[]> {
  return JSON.parse(await s.kubectlOk(['get', 'pods', '-l', 'app=spread', '-o', 'json'])).items;
}

test('a node lost during a rollout goes NotReady, its pods are evicted after tolerationSeconds and replaced elsewhere', async () => {
  await s.kubectlOk(['create', '-f', '-'], { input: deployment });
  await s.kubectlOk(['rollout', 'status', 'deployment/spread', '--timeout=60s'], { timeoutMs: 70_000 });
  const first = await pods();
  const onLost = first.filter((p) => p.spec.nodeName === 'lost-0');
  assert.ok(onLost.length > 0, `some pods on lost-0: ${first.map((p) => p.spec.nodeName).join(', ')}`);
  assert.ok(first.every((p) => p.status.phase === 'Running'));

  // The node's agent goes away; a rollout starts before anyone has noticed.
  const stoppedAt = Date.now();
  await lost.stop('SIGTERM');
  await s.kubectlOk(['set', 'image', 'deployment/spread', 'c=nginx:1.27']);

  // No heartbeat for the grace period (10 s here): Ready Unknown, shown as NotReady, tainted.
  const node = await eventually(async () => {
    const n = JSON.parse(await s.kubectlOk(['get', 'node', 'lost-0', '-o', 'json']));
    // The condition and the taints are separate writes: wait for both.
    const unknown = n.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'Unknown';
    return unknown && (n.spec.taints ?? []).length >= 2 ? n : undefined;
  }, 60_000, 'lost-0 Ready=Unknown and tainted');
  const noticedAfter = Date.now() - stoppedAt;
  assert.ok(noticedAfter >= 7_000, `not before the grace period (${noticedAfter} ms)`);
  const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(ready.reason, 'NodeStatusUnknown');
  assert.equal(ready.message, 'Kubelet stopped posting node status.');
  assert.deepEqual(node.spec.taints.map((t: any) => `${t.key}:${t.effect}`).sort(),
    ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
  const table = await s.kubectlOk(['get', 'nodes']);
  assert.match(table, /^lost-0\s+NotReady\s+/m);
  assert.match(table, /^stay-0\s+Ready\s+/m);
  assert.match(table, /^stay-1\s+Ready\s+/m);

  // Its pods are marked not Ready, then evicted 5 s after the taint (tolerationSeconds).
  const uid = onLost[0].metadata.uid;
  const evicted = await eventually(async () => {
    const p = (await pods()).find((x) => x.metadata.uid === uid);
    return !p || p.metadata.deletionTimestamp ? p ?? 'gone' : undefined;
  }, 20_000, 'a pod of lost-0 evicted');
  if (evicted !== 'gone') {
    assert.equal(evicted.status.conditions.find((c: any) => c.type === 'Ready')?.status, 'False', 'pods of an unreachable node are not Ready');
  }

  // The rollout finishes on the two nodes left, with every pod new.
  await s.kubectlOk(['rollout', 'status', 'deployment/spread', '--timeout=60s'], { timeoutMs: 70_000 });
  const live = (await pods()).filter((p) => !p.metadata.deletionTimestamp);
  assert.equal(live.length, 6);
  for (const p of live) {
    assert.match(p.spec.nodeName, /^stay-/, `${p.metadata.name} on ${p.spec.nodeName}`);
    assert.equal(p.status.phase, 'Running');
    assert.equal(p.spec.containers[0].image, 'nginx:1.27');
  }
  const dep = JSON.parse(await s.kubectlOk(['get', 'deploy', 'spread', '-o', 'json']));
  assert.equal(dep.status.availableReplicas, 6);
  assert.equal(dep.status.updatedReplicas, 6);
  // Whatever is still on lost-0 is only a pod waiting for a kubelet that will not come back.
  for (const p of (await pods()).filter((x) => x.spec.nodeName === 'lost-0')) assert.ok(p.metadata.deletionTimestamp, `${p.metadata.name} evicted`);
});
