// The workload controllers on a real server with simulated nodes (`skiff sim`), driven
// the way a user drives them: kubectl 1.32 for the commands, HTTPS for the checks.
// Deployments (rollouts, history, undo, pause/resume, restart, scale mid-rollout, a pod
// deleted behind the controller's back), Jobs, DaemonSets, StatefulSets, Services with
// Endpoints and EndpointSlices, ServiceAccounts, pod CIDRs, a full cluster and preemption.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, eventually, KUBECTL, type TestServer } from '../helpers/cluster.ts';
import { startSim, type TestSim } from '../helpers/sim.ts';
import { LineSplitter } from '../../src/client/ndjson.ts';

let s: TestServer;
let sim: TestSim;
const NODES = 3;

before(async () => {
  s = await startServer();
  sim = await startSim(s, { nodes: NODES, prefix: 'wl', args: ['--lease-interval', '2', '--status-interval', '5'] });
  // Nodes are usable once node IPAM has given each a pod CIDR (pods then get IPs from it).
  await eventually(async () => {
    const nodes = (await s.request('GET', '/api/v1/nodes')).json.items;
    return nodes.length === NODES && nodes.every((n: any) => n.spec.podCIDR);
  }, 15_000, 'sim nodes with pod CIDRs');
});
after(async () => {
  await sim?.stop();
  await s?.stop();
});

// ---- helpers ----------------------------------------------------------------------------

async function getJson(args: string[]): Promise<any> {
  return JSON.parse(await s.kubectlOk([...args, '-o', 'json']));
}

/** Pods matching a label selector that are not being deleted. */
async function livePods(selector: string, ns = 'default'): Promise<any[]> {
  const list = await getJson(['get', 'pods', '-n', ns, '-l', selector]);
  return list.items.filter((p: any) => !p.metadata.deletionTimestamp);
}

async function rolloutStatus(what: string, ns = 'default'): Promise<string> {
  return s.kubectlOk(['rollout', 'status', what, '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
}

/** Waits until exactly `n` live pods match, all Running with an IP, and returns them. */
async function runningPods(selector: string, n: number, ns = 'default', timeoutMs = 20_000): Promise<any[]> {
  return eventually(async () => {
    const pods = await livePods(selector, ns);
    return pods.length === n && pods.every((p) => p.status.phase === 'Running' && p.status.podIP) ? pods : undefined;
  }, timeoutMs, `${n} running pods for ${selector}`);
}

const image = (p: any) => p.spec.containers[0].image;

function ipInCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

// ---- nodes and namespaces ---------------------------------------------------------------

test('sim nodes are Ready with distinct pod CIDRs from the cluster CIDR', async () => {
  const out = await s.kubectlOk(['get', 'nodes']);
  for (const n of sim.nodes) assert.match(out, new RegExp(`^${n}\\s+Ready\\s+`, 'm'));
  const nodes = (await getJson(['get', 'nodes'])).items;
  const cidrs = nodes.map((n: any) => n.spec.podCIDR);
  assert.equal(new Set(cidrs).size, NODES, 'one block per node');
  for (const n of nodes) {
    assert.match(n.spec.podCIDR, /^10\.42\.\d+\.0\/24$/);
    assert.deepEqual(n.spec.podCIDRs, [n.spec.podCIDR]);
  }
});

test('every namespace gets a default ServiceAccount, and gets it back when deleted', async () => {
  await s.kubectlOk(['create', 'namespace', 'team-a']);
  const all = (await getJson(['get', 'namespaces'])).items.map((n: any) => n.metadata.name);
  assert.ok(all.includes('team-a'));
  for (const ns of all) {
    await eventually(async () => (await s.kubectl(['get', 'serviceaccount', 'default', '-n', ns])).code === 0, 10_000, `default SA in ${ns}`);
  }
  const before = await getJson(['get', 'serviceaccount', 'default', '-n', 'team-a']);
  await s.kubectlOk(['delete', 'serviceaccount', 'default', '-n', 'team-a']);
  await eventually(async () => {
    const r = await s.request('GET', '/api/v1/namespaces/team-a/serviceaccounts/default');
    return r.status === 200 && r.json.metadata.uid !== before.metadata.uid;
  }, 10_000, 'default SA recreated');
});

// ---- Deployment -------------------------------------------------------------------------

test('deployment: create, roll out, update, history, undo, pause/resume, restart, scale mid-rollout, pod replaced', async () => {
  assert.match(await s.kubectlOk(['create', 'deployment', 'web', '--image=nginx', '--replicas=3']), /deployment.apps\/web created/);
  assert.match(await rolloutStatus('deployment/web'), /successfully rolled out/);

  // Pods run on the sim nodes with IPs from their node's pod CIDR.
  const nodes = new Map<string, any>((await getJson(['get', 'nodes'])).items.map((n: any) => [n.metadata.name, n]));
  let pods = await runningPods('app=web', 3);
  for (const p of pods) {
    assert.ok(sim.nodes.includes(p.spec.nodeName), `${p.metadata.name} on a sim node`);
    assert.ok(ipInCidr(p.status.podIP, nodes.get(p.spec.nodeName).spec.podCIDR), `${p.status.podIP} in ${p.spec.nodeName}'s CIDR`);
    assert.equal(p.status.conditions.find((c: any) => c.type === 'Ready')?.status, 'True');
  }
  assert.equal(new Set(pods.map((p) => p.status.podIP)).size, 3, 'distinct pod IPs');
  assert.match(await s.kubectlOk(['get', 'deploy', 'web']), /^web\s+3\/3\s+3\s+3\s+\d+s$/m);
  const wide = await s.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'wide']);
  assert.equal(wide.trim().split('\n').slice(1).filter((l) => /\sRunning\s/.test(l)).length, 3, wide);

  // A new image rolls out: every pod is replaced by one with the new template.
  const firstUids = new Set(pods.map((p) => p.metadata.uid));
  await s.kubectlOk(['set', 'image', 'deployment/web', 'nginx=nginx:1.27']);
  assert.match(await rolloutStatus('deployment/web'), /successfully rolled out/);
  pods = await runningPods('app=web', 3);
  assert.ok(pods.every((p) => image(p) === 'nginx:1.27' && !firstUids.has(p.metadata.uid)), 'all pods new');
  const rs = (await getJson(['get', 'rs', '-l', 'app=web'])).items;
  assert.equal(rs.length, 2);
  assert.deepEqual(rs.map((r: any) => r.spec.replicas).sort(), [0, 3]);

  const history = await s.kubectlOk(['rollout', 'history', 'deployment/web']);
  assert.match(history, /^REVISION\s+CHANGE-CAUSE$/m);
  assert.match(history, /^1\s+<none>$/m);
  assert.match(history, /^2\s+<none>$/m);
  assert.match(await s.kubectlOk(['rollout', 'history', 'deployment/web', '--revision=2']), /Image:\s+nginx:1\.27/);

  // Undo: the template goes back to revision 1, which becomes revision 3.
  assert.match(await s.kubectlOk(['rollout', 'undo', 'deployment/web']), /rolled back/);
  await rolloutStatus('deployment/web');
  let dep = await getJson(['get', 'deploy', 'web']);
  assert.equal(dep.spec.template.spec.containers[0].image, 'nginx');
  assert.equal(dep.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  pods = await runningPods('app=web', 3);
  assert.ok(pods.every((p) => image(p) === 'nginx'));
  assert.equal((await getJson(['get', 'rs', '-l', 'app=web'])).items.length, 2, 'the old ReplicaSet was reused');

  // Paused: a template change does not roll out until resumed.
  await s.kubectlOk(['rollout', 'pause', 'deployment/web']);
  await s.kubectlOk(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
  await eventually(async () => {
    const d = await getJson(['get', 'deploy', 'web']);
    return d.status.observedGeneration >= d.metadata.generation
      && d.status.conditions.some((c: any) => c.type === 'Progressing' && c.reason === 'DeploymentPaused');
  }, 10_000, 'paused condition');
  await new Promise((r) => setTimeout(r, 500));
  assert.ok((await livePods('app=web')).every((p) => image(p) === 'nginx'), 'nothing rolled while paused');
  assert.equal((await getJson(['get', 'rs', '-l', 'app=web'])).items.length, 2, 'no new ReplicaSet while paused');
  const paused = await s.kubectl(['rollout', 'status', 'deployment/web', '--timeout=2s']);
  assert.notEqual(paused.code, 0, 'rollout status does not succeed while paused');
  await s.kubectlOk(['rollout', 'resume', 'deployment/web']);
  await rolloutStatus('deployment/web');
  pods = await runningPods('app=web', 3);
  assert.ok(pods.every((p) => image(p) === 'nginx:1.28'));

  // Restart: same image, new pods (the template carries restartedAt).
  const beforeRestart = new Set(pods.map((p) => p.metadata.uid));
  await s.kubectlOk(['rollout', 'restart', 'deployment/web']);
  await rolloutStatus('deployment/web');
  pods = await runningPods('app=web', 3);
  assert.ok(pods.every((p) => !beforeRestart.has(p.metadata.uid) && p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']));

  // Scale during a rollout: the new ReplicaSet ends with all 5, the old ones with none.
  // minReadySeconds slows the rollout down so the scale surely lands in the middle of it.
  await s.kubectlOk(['patch', 'deployment/web', '-p', '{"spec":{"minReadySeconds":1}}']);
  await s.kubectlOk(['set', 'image', 'deployment/web', 'nginx=nginx:1.29']);
  const mid = await eventually(async () => {
    const d = await getJson(['get', 'deploy', 'web']);
    return d.status.observedGeneration >= d.metadata.generation && d.status.updatedReplicas >= 1 ? d : undefined;
  }, 10_000, 'rollout under way');
  assert.ok(mid.status.updatedReplicas < 3 || mid.status.availableReplicas < 3, 'still rolling out');
  await s.kubectlOk(['scale', 'deployment/web', '--replicas=5']);
  await rolloutStatus('deployment/web');
  pods = await runningPods('app=web', 5);
  assert.ok(pods.every((p) => image(p) === 'nginx:1.29'));
  dep = await getJson(['get', 'deploy', 'web']);
  assert.equal(dep.status.replicas, 5);
  assert.equal(dep.status.updatedReplicas, 5);
  const sets = (await getJson(['get', 'rs', '-l', 'app=web'])).items;
  assert.equal(sets.filter((r: any) => r.spec.replicas > 0).length, 1);
  assert.match(await s.kubectlOk(['get', 'deploy', 'web']), /^web\s+5\/5\s+5\s+5\s+/m);
  await s.kubectlOk(['patch', 'deployment/web', '-p', '{"spec":{"minReadySeconds":0}}']);

  // Back to 3; then a pod deleted behind the controller's back is replaced.
  await s.kubectlOk(['scale', 'deployment/web', '--replicas=3']);
  pods = await runningPods('app=web', 3);
  const victim = pods[0].metadata.name;
  await s.kubectlOk(['delete', 'pod', victim, '--wait=true']);
  pods = await runningPods('app=web', 3);
  assert.ok(!pods.some((p) => p.metadata.name === victim), 'a replacement, not the same pod');
  await eventually(async () => /^web\s+3\/3\s+3\s+3\s+/m.test(await s.kubectlOk(['get', 'deploy', 'web'])), 10_000, 'READY 3/3');
});

// ---- Service → Endpoints / EndpointSlices -----------------------------------------------

test('a Service with a selector gets Endpoints and an EndpointSlice with the ready pods', async () => {
  await s.kubectlOk(['create', 'deployment', 'api', '--image=nginx', '--replicas=2', '--port=8080']);
  await rolloutStatus('deployment/api');
  await s.kubectlOk(['expose', 'deployment', 'api', '--port=80', '--target-port=8080']);
  const ips = async () => (await runningPods('app=api', (await livePods('app=api')).length)).map((p) => p.status.podIP).sort();

  let want = await ips();
  assert.equal(want.length, 2);
  const ep = await eventually(async () => {
    const e = await getJson(['get', 'endpoints', 'api']);
    const got = (e.subsets ?? []).flatMap((ss: any) => (ss.addresses ?? []).map((a: any) => a.ip)).sort();
    return JSON.stringify(got) === JSON.stringify(want) ? e : undefined;
  }, 10_000, 'Endpoints with both pod IPs');
  assert.deepEqual(ep.subsets[0].ports, [{ port: 8080, protocol: 'TCP' }]);
  assert.equal(ep.subsets[0].addresses[0].targetRef.kind, 'Pod');
  const row = (await s.kubectlOk(['get', 'endpoints', 'api'])).match(/^api\s+(\S+)\s+/m);
  assert.deepEqual(row?.[1].split(',').sort(), want.map((ip) => `${ip}:8080`).sort());

  const sliceIps = async () => {
    const slices = (await getJson(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=api'])).items;
    return { slices, ips: slices.flatMap((sl: any) => (sl.endpoints ?? []).filter((e: any) => e.conditions.ready).flatMap((e: any) => e.addresses)).sort() };
  };
  const { slices } = await eventually(async () => {
    const r = await sliceIps();
    return JSON.stringify(r.ips) === JSON.stringify(want) ? r : undefined;
  }, 10_000, 'EndpointSlice with both pod IPs');
  assert.equal(slices.length, 1);
  assert.equal(slices[0].addressType, 'IPv4');
  assert.equal(slices[0].metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.deepEqual(slices[0].ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
  for (const e of slices[0].endpoints) assert.ok(sim.nodes.includes(e.nodeName));

  // Scaling follows through to both.
  await s.kubectlOk(['scale', 'deployment/api', '--replicas=3']);
  await runningPods('app=api', 3);
  want = await ips();
  await eventually(async () => {
    const e = await getJson(['get', 'endpoints', 'api']);
    const got = (e.subsets ?? []).flatMap((ss: any) => (ss.addresses ?? []).map((a: any) => a.ip)).sort();
    return JSON.stringify(got) === JSON.stringify(want);
  }, 10_000, 'Endpoints with three pod IPs');
  await eventually(async () => JSON.stringify((await sliceIps()).ips) === JSON.stringify(want), 10_000, 'EndpointSlice with three pod IPs');
  await s.kubectlOk(['delete', 'deployment', 'api']);
});

// ---- Jobs -------------------------------------------------------------------------------

test('a job that succeeds completes; one that fails past its backoffLimit ends Failed', async () => {
  await s.kubectlOk(['create', 'job', 'j', '--image=busybox', '--', 'sleep', '1']);
  assert.match(await s.kubectlOk(['wait', '--for=condition=complete', 'job/j', '--timeout=60s'], { timeoutMs: 70_000 }), /job.batch\/j condition met/);
  const job = await getJson(['get', 'job', 'j']);
  assert.equal(job.status.succeeded, 1);
  assert.ok(job.status.completionTime);
  const pods = (await getJson(['get', 'pods', '-l', 'job-name=j'])).items;
  assert.equal(pods.length, 1);
  assert.equal(pods[0].status.phase, 'Succeeded');
  assert.match(await s.kubectlOk(['get', 'job', 'j']), /^j\s+Complete\s+1\/1\s+/m);

  const manifest = JSON.parse(await s.kubectlOk(['create', 'job', 'f', '--image=busybox', '--dry-run=client', '-o', 'json', '--', 'false']));
  manifest.spec.backoffLimit = 1;
  await s.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest) });
  await s.kubectlOk(['wait', '--for=condition=failed', 'job/f', '--timeout=60s'], { timeoutMs: 70_000 });
  const failed = await getJson(['get', 'job', 'f']);
  assert.equal(failed.status.failed, 2, 'the first try and one retry');
  assert.equal(failed.status.conditions.find((c: any) => c.type === 'Failed')?.reason, 'BackoffLimitExceeded');
  assert.ok(!failed.status.active);
  const fpods = (await getJson(['get', 'pods', '-l', 'job-name=f'])).items;
  assert.equal(fpods.length, 2);
  assert.ok(fpods.every((p: any) => p.status.phase === 'Failed'));
  await s.kubectlOk(['delete', 'job', 'j', 'f']);
});

// ---- DaemonSet / StatefulSet ------------------------------------------------------------

test('a DaemonSet runs one pod on every sim node', async () => {
  await s.kubectlOk(['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'busybox', command: ['sleep', 'infinity'] }] } },
      },
    }),
  });
  await rolloutStatus('daemonset/agent');
  const pods = await runningPods('app=agent', NODES);
  assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), [...sim.nodes].sort());
  const ds = await getJson(['get', 'ds', 'agent']);
  assert.equal(ds.status.desiredNumberScheduled, NODES);
  assert.equal(ds.status.numberReady, NODES);
  assert.match(await s.kubectlOk(['get', 'ds', 'agent']), new RegExp(`^agent\\s+${NODES}\\s+${NODES}\\s+${NODES}\\s+${NODES}\\s+${NODES}\\s+`, 'm'));

  // A daemon pod deleted behind the controller's back comes back on the same node.
  const victim = pods[0];
  await s.kubectlOk(['delete', 'pod', victim.metadata.name]);
  const again = await runningPods('app=agent', NODES);
  assert.deepEqual(again.map((p) => p.spec.nodeName).sort(), [...sim.nodes].sort());
  assert.ok(!again.some((p) => p.metadata.uid === victim.metadata.uid));
  await s.kubectlOk(['delete', 'ds', 'agent']);
});

test('a StatefulSet creates web-0, web-1, web-2 in order, each after the previous is Ready', async () => {
  // Watch pod creations as kubectl users do, to see their order.
  const watch = spawn(KUBECTL, ['get', 'pods', '-l', 'app=ss', '--watch', '-o', 'name'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
  const seen: string[] = [];
  const lines = new LineSplitter((name) => { if (!seen.includes(name)) seen.push(name); });
  watch.stdout.setEncoding('utf8');
  watch.stdout.on('data', (d: string) => lines.push(d));
  try {
    await new Promise((r) => setTimeout(r, 500)); // the watch is established
    await s.kubectlOk(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ss' }, spec: { clusterIP: 'None', selector: { app: 'ss' }, ports: [{ port: 80 }] } }),
    });
    await s.kubectlOk(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' },
        spec: {
          serviceName: 'ss', replicas: 3, selector: { matchLabels: { app: 'ss' } },
          template: { metadata: { labels: { app: 'ss' } }, spec: { containers: [{ name: 'w', image: 'nginx' }] } },
        },
      }),
    });
    await rolloutStatus('statefulset/web');
    const pods = await runningPods('app=ss', 3);
    await eventually(async () => seen.length === 3, 5_000, 'three pods seen by the watch');
    assert.deepEqual(seen, ['pod/web-0', 'pod/web-1', 'pod/web-2']);
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    for (let i = 1; i < 3; i++) {
      const prev = byName.get(`web-${i - 1}`);
      const cur = byName.get(`web-${i}`);
      const prevReady = prev.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime;
      assert.ok(cur.metadata.creationTimestamp >= prevReady, `web-${i} created (${cur.metadata.creationTimestamp}) after web-${i - 1} was Ready (${prevReady})`);
      assert.equal(cur.spec.hostname, `web-${i}`);
      assert.equal(cur.spec.subdomain, 'ss');
    }
    const table = await s.kubectlOk(['get', 'pods', '-l', 'app=ss']);
    for (let i = 0; i < 3; i++) assert.match(table, new RegExp(`^web-${i}\\s+1/1\\s+Running\\s+0\\s+`, 'm'));
    assert.match(await s.kubectlOk(['get', 'sts', 'web']), /^web\s+3\/3\s+/m);

    // A member deleted behind the controller's back comes back with the same name.
    const uid = byName.get('web-1').metadata.uid;
    // --wait=false: the controller recreates web-1 at once, and kubectl's wait for the
    // deletion (a watch on the name) can then see the new web-1 and never a DELETED event.
    await s.kubectlOk(['delete', 'pod', 'web-1', '--wait=false']);
    await eventually(async () => {
      const p = (await livePods('app=ss')).find((x) => x.metadata.name === 'web-1');
      return p && p.metadata.uid !== uid && p.status.phase === 'Running';
    }, 15_000, 'web-1 recreated');
  } finally {
    watch.kill();
  }
  await s.kubectlOk(['delete', 'sts', 'web']);
  await s.kubectlOk(['delete', 'svc', 'ss']);
});

// ---- A full cluster, preemption ---------------------------------------------------------

const hog = (name: string, cls: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'hog' } },
  spec: { priorityClassName: cls, containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'], resources: { requests: { cpu: '6' } } }] },
});

test('a full cluster leaves pods Pending with FailedScheduling; a higher priority pod preempts a lower one', async () => {
  await s.kubectlOk(['create', 'priorityclass', 'low', '--value=10']);
  await s.kubectlOk(['create', 'priorityclass', 'high', '--value=1000']);
  // Each 8-cpu node takes one 6-cpu pod.
  for (let i = 0; i < NODES; i++) await s.kubectlOk(['create', '-f', '-'], { input: hog(`low-${i}`, 'low') });
  const lows = await runningPods('app=hog', NODES);
  assert.equal(new Set(lows.map((p) => p.spec.nodeName)).size, NODES);
  assert.ok(lows.every((p) => p.spec.priority === 10), 'the class value is resolved into spec.priority');

  // One more of the same priority fits nowhere and may evict nobody.
  await s.kubectlOk(['create', '-f', '-'], { input: hog('low-extra', 'low') });
  const describe = await eventually(async () => {
    const d = await s.kubectlOk(['describe', 'pod', 'low-extra']);
    return /FailedScheduling/.test(d) ? d : undefined;
  }, 15_000, 'FailedScheduling in describe');
  assert.match(describe, /^Status:\s+Pending$/m);
  assert.match(describe, new RegExp(`FailedScheduling\\s.*0/${NODES} nodes are available: ${NODES} Insufficient cpu\\.`));
  const cond = (await getJson(['get', 'pod', 'low-extra'])).status.conditions.find((c: any) => c.type === 'PodScheduled');
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'Unschedulable');
  assert.ok(cond.message.startsWith(`0/${NODES} nodes are available: ${NODES} Insufficient cpu.`), cond.message);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal((await getJson(['get', 'pod', 'low-extra'])).status.phase, 'Pending', 'still Pending');
  assert.equal((await livePods('app=hog')).length, NODES + 1, 'no pod evicted for an equal priority');
  await s.kubectlOk(['delete', 'pod', 'low-extra', '--wait=true']);

  // A high-priority pod evicts one low-priority pod and takes its node.
  await s.kubectlOk(['create', '-f', '-'], { input: hog('vip', 'high') });
  const vip = await eventually(async () => {
    const p = await getJson(['get', 'pod', 'vip']);
    return p.spec.nodeName && p.status.phase === 'Running' ? p : undefined;
  }, 20_000, 'vip bound and Running');
  assert.equal(vip.spec.priority, 1000);
  const left = (await livePods('app=hog')).filter((p) => p.metadata.name.startsWith('low-'));
  assert.equal(left.length, NODES - 1, 'exactly one victim');
  assert.ok(!left.some((p) => p.spec.nodeName === vip.spec.nodeName), 'the victim was on the vip node');
  const events = (await getJson(['get', 'events', '--field-selector', 'reason=Preempted'])).items;
  assert.deepEqual(events.map((e: any) => e.message), [`Preempted by pod ${vip.metadata.uid} on node ${vip.spec.nodeName}`]);
  assert.match(await s.kubectlOk(['get', 'pod', 'vip']), /^vip\s+1\/1\s+Running\s+/m);
});

// Kubernetes' scheduler counts a nominated pod (status.nominatedNodeName) on its node when
// it filters pods of lower or equal priority, so the room a preemption freed is kept for
// the preemptor: a pending lower-priority pod must not take the room (and then be
// preempted in turn).
test('a lower-priority pending pod does not take the room preemption freed for a nominated pod', async () => {
  await s.kubectlOk(['create', '-f', '-'], { input: hog('low-waiting', 'low') });
  await eventually(async () => (await getJson(['get', 'pod', 'low-waiting'])).status.conditions?.some((c: any) => c.type === 'PodScheduled' && c.status === 'False'), 15_000, 'low-waiting unschedulable');
  await s.kubectlOk(['create', '-f', '-'], { input: hog('vip-2', 'high') });
  const vip = await eventually(async () => {
    const p = await getJson(['get', 'pod', 'vip-2']);
    return p.spec.nodeName && p.status.phase === 'Running' ? p : undefined;
  }, 20_000, 'vip-2 bound and Running');
  const preempted = (await getJson(['get', 'events', '--field-selector', 'reason=Preempted'])).items
    .filter((e: any) => e.message.includes(vip.metadata.uid));
  assert.equal(preempted.length, 1, `one victim, not ${preempted.map((e: any) => e.involvedObject.name).join(', ')}`);
  const waiting = await s.request('GET', '/api/v1/namespaces/default/pods/low-waiting');
  assert.equal(waiting.status, 200, 'low-waiting was not bound and then preempted');
  assert.equal(waiting.json.status.phase, 'Pending');
});
