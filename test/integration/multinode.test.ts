// A cluster over several machines: a server in the root network namespace and two agents,
// each in its own network namespace ("host") behind a bridge (test/helpers/netns.ts), as
// two machines on one switch. Pods on different nodes reach each other by their own
// addresses (host-gw routes, no NAT), Services balance across nodes, and when a machine
// dies its Node goes NotReady and its Deployment pods come back on the node that is left.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { agentUnavailable, eventually, startServer, testNetworks, type TestServer } from '../helpers/cluster.ts';
import { createNetnsLab, netnsUnavailable, type NetnsAgent, type NetnsHost, type NetnsLab } from '../helpers/netns.ts';
import { isReady, isRunning, podWaiter, TEST_IMAGE } from '../helpers/pods.ts';

const skip = agentUnavailable() ?? netnsUnavailable();
const proxySource = readFileSync(path.resolve(import.meta.dirname, '../../src/proxy/index.ts'), 'utf8');
const skipService = skip ?? (proxySource.includes('PLACEHOLDER') ? 'service proxy not built yet' : undefined);

let s: TestServer;
let lab: NetnsLab;
const hosts: NetnsHost[] = [];
const agents: NetnsAgent[] = [];
const nets = testNetworks();
const GRACE_S = 15;

before(async () => {
  if (skip) return;
  lab = await createNetnsLab();
  // the agents reach the server at the switch's address, which its certificate must name;
  // the grace period must outlast the agents' 10 s Lease renewals, or every node goes Unknown
  s = await startServer({ args: [...nets.args, '--node-monitor-grace-period', `${GRACE_S}s`, '--tls-san', lab.gateway] });
  const token = readFileSync(path.join(s.dataDir, 'token'), 'utf8').trim();
  const server = `https://${lab.gateway}:${new URL(s.url).port}`;
  for (let i = 0; i < 2; i++) hosts.push(await lab.addHost());
  // one at a time: two containerd starts and image imports at once are slow on 2 cores
  for (const h of hosts) agents.push(await h.startAgent({ server, token, nodeName: `host-${h.ip.split('.')[3]}` }));
});

after(async () => {
  const errors = lab ? await lab.destroy() : [];
  await s?.stop();
  if (errors.length) console.error('netns teardown:', errors.join('\n'));
});

const { pod, waitPod } = podWaiter(() => s);

async function apply(yaml: string): Promise<void> {
  await s.kubectlOk(['apply', '-f', '-'], { input: yaml });
}

/** busybox httpd with a CGI that answers with the caller's address and the pod's name. */
const WHOAMI = 'mkdir -p /www/cgi-bin && printf \'#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho "peer=$REMOTE_ADDR pod=$(hostname)"\\n\' > /www/cgi-bin/who && chmod +x /www/cgi-bin/who && exec httpd -f -p 8080 -h /www';

function podYaml(name: string, node: string, command: string, labels: Record<string, string> = {}): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: ${JSON.stringify(labels)}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${TEST_IMAGE}
    command: [sh, -c, ${JSON.stringify(command)}]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;
}

/** httpd's REMOTE_ADDR is IPv4-mapped IPv6 ("[::ffff:10.1.0.2]"): the plain IPv4 address. */
function peer(out: string): string {
  return out.trim().replace(/\[::ffff:([\d.]+)\]/, '$1');
}

// busybox 1.35's `wget -T` crashes; `timeout` bounds the request instead
async function execIn(name: string, cmd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return s.kubectl(['exec', name, '--', 'sh', '-c', cmd], { timeoutMs: 20_000 });
}

test('both nodes join Ready with distinct pod CIDRs inside the cluster CIDR, and each routes to the other\'s pods', { skip }, async () => {
  const nodes = await eventually(async () => {
    const list = (await s.request('GET', '/api/v1/nodes')).json.items as any[];
    const ready = list.filter((n) => n.spec.podCIDR && n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === 2 && ready;
  }, 30_000, 'two Ready nodes');
  const cidrs = nodes.map((n: any) => n.spec.podCIDR);
  assert.notEqual(cidrs[0], cidrs[1]);
  for (const c of cidrs) assert.ok(c.startsWith(nets.clusterCidr.split('.').slice(0, 2).join('.') + '.'), `${c} in ${nets.clusterCidr}`);
  for (const [i, h] of hosts.entries()) {
    const other = nodes.find((n: any) => n.metadata.name === agents[1 - i]!.nodeName);
    await eventually(async () => {
      const routes = await h.exec('ip', ['-4', 'route', 'show', 'proto', '157']);
      return routes.includes(`${other.spec.podCIDR} via ${hosts[1 - i]!.ip}`);
    }, 15_000, `${h.name}: route to ${other.metadata.name}'s pods`);
  }
});

test('a node joining the switch gets a route to its pods and loses it when deleted; a node off the subnet (like skiff sim\'s) gets none', { skip }, async () => {
  const onSwitch = lab.gateway.replace(/\.1$/, '.200');
  for (const [name, ip] of [['phantom', onSwitch], ['sim-like', '172.30.0.2']] as const) {
    await apply(`apiVersion: v1
kind: Node
metadata: {name: ${name}}
`);
    await s.kubectlOk(['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: ip }] } })]);
  }
  const cidrOf = (name: string) => eventually(async () => (await s.request('GET', `/api/v1/nodes/${name}`)).json.spec?.podCIDR as string | undefined, 15_000, `${name} pod CIDR`);
  const phantom = await cidrOf('phantom');
  const simLike = await cidrOf('sim-like');
  for (const h of hosts) {
    await eventually(async () => (await h.exec('ip', ['-4', 'route', 'show', 'proto', '157'])).includes(`${phantom} via ${onSwitch}`), 15_000, `${h.name}: route to phantom's pods`);
    assert.doesNotMatch(await h.exec('ip', ['-4', 'route', 'show', simLike]), /via/, `${h.name} has no route to the sim-like node's pods`);
  }
  // the agents say once why the sim-like node gets no route
  const warnings = (a: NetnsAgent) => a.output().split('\n').filter((l) => l.includes('no route to some nodes') && /sim-like: its InternalIP 172\.30\.0\.2 is not on a subnet/.test(l)).length;
  for (const a of agents) await eventually(async () => warnings(a) > 0, 10_000, `${a.nodeName} warns about sim-like`);
  await s.kubectlOk(['delete', 'node', 'phantom', 'sim-like']);
  for (const h of hosts) {
    await eventually(async () => !(await h.exec('ip', ['-4', 'route', 'show', 'proto', '157'])).includes(phantom), 15_000, `${h.name}: route to phantom's pods removed`);
  }
  for (const a of agents) assert.equal(warnings(a), 1, `${a.nodeName} warned once`);
});

test('a pod reaches a pod on the other node by its IP, and the other pod sees the caller\'s own pod IP', { skip }, async () => {
  await apply(podYaml('server-b', agents[1]!.nodeName, WHOAMI));
  await apply(podYaml('client-a', agents[0]!.nodeName, 'exec sleep 3600').replace(/    readinessProbe.*\n/, ''));
  const b = await waitPod('server-b', isReady, 'ready', 60_000);
  const a = await waitPod('client-a', isRunning, 'running', 60_000);
  assert.equal(b.spec.nodeName, agents[1]!.nodeName);
  assert.equal(a.spec.nodeName, agents[0]!.nodeName);
  assert.notEqual(a.status.hostIP, b.status.hostIP);
  const r = await execIn('client-a', `timeout 5 wget -qO- http://${b.status.podIP}:8080/cgi-bin/who`);
  assert.equal(r.code, 0, `wget across nodes failed: ${r.stderr}${r.stdout}`);
  assert.equal(peer(r.stdout), `peer=${a.status.podIP} pod=server-b`, 'no NAT between pods: the server sees the client pod\'s address');
  // and the other way round
  await apply(podYaml('server-a', agents[0]!.nodeName, WHOAMI));
  const sa = await waitPod('server-a', isReady, 'ready', 60_000);
  const back = await execIn('server-b', `timeout 5 wget -qO- http://${sa.status.podIP}:8080/cgi-bin/who`);
  assert.equal(peer(back.stdout), `peer=${b.status.podIP} pod=server-a`, back.stderr);
});

test('a ClusterIP Service balances a client on node A over backends on both nodes', { skip: skipService }, async () => {
  await apply(podYaml('echo-a', agents[0]!.nodeName, WHOAMI, { app: 'mn-echo' }));
  await apply(podYaml('echo-b', agents[1]!.nodeName, WHOAMI, { app: 'mn-echo' }));
  await apply(`apiVersion: v1
kind: Service
metadata: {name: mn-echo}
spec:
  selector: {app: mn-echo}
  ports: [{port: 80, targetPort: 8080}]
`);
  await waitPod('echo-a', isReady, 'ready', 60_000);
  await waitPod('echo-b', isReady, 'ready', 60_000);
  if (!(await pod('client-a'))?.status) await apply(podYaml('client-a', agents[0]!.nodeName, 'exec sleep 3600').replace(/    readinessProbe.*\n/, ''));
  await waitPod('client-a', isRunning, 'running', 60_000);
  const svc = (await s.request('GET', '/api/v1/namespaces/default/services/mn-echo')).json;
  const seen = new Set<string>();
  await eventually(async () => {
    const r = await execIn('client-a', `for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -qO- http://${svc.spec.clusterIP}/cgi-bin/who; done`);
    for (const m of r.stdout.matchAll(/pod=(\S+)/g)) seen.add(m[1]!);
    return seen.has('echo-a') && seen.has('echo-b');
  }, 45_000, `answers from both backends through ${svc.spec.clusterIP} (seen: ${[...seen].join(', ')})`);
});

test('a node that dies goes NotReady and its Deployment pods come back on the node left', { skip }, async () => {
  await apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: survivor}
spec:
  replicas: 2
  selector: {matchLabels: {app: survivor}}
  template:
    metadata: {labels: {app: survivor}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - name: main
        image: ${TEST_IMAGE}
        command: [sh, -c, 'exec sleep 3600']
`);
  const listPods = async () => ((await s.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dsurvivor')).json.items as any[]);
  const first = await eventually(async () => {
    const items = await listPods();
    return items.length === 2 && items.every(isRunning) && items;
  }, 60_000, 'two running replicas');
  // the machine hosting (some of) the replicas dies: its agent and, with it, its pods
  const victimName = first[0].spec.nodeName as string;
  const vi = agents.findIndex((a) => a.nodeName === victimName);
  const victim = agents[vi]!;
  const survivor = agents[1 - vi]!;
  const onVictim = new Set(first.filter((p) => p.spec.nodeName === victimName).map((p) => p.metadata.name));
  const killedAt = Date.now();
  await victim.kill('SIGKILL');
  await victim.killall();

  const getNode = async () => (await s.request('GET', `/api/v1/nodes/${victimName}`)).json;
  await eventually(async () => {
    const ready = (await getNode()).status?.conditions?.find((c: any) => c.type === 'Ready');
    return ready && ready.status !== 'True';
  }, (GRACE_S + 30) * 1000, `${victimName} NotReady`);
  const notReadyAfter = Date.now() - killedAt;
  // grace period + the controller's 5 s check interval + slack
  assert.ok(notReadyAfter < (GRACE_S + 15) * 1000, `NotReady after ${notReadyAfter} ms (grace period ${GRACE_S} s)`);
  // the taint follows the condition (a separate update)
  await eventually(async () => ((await getNode()).spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'),
    10_000, `${victimName} tainted unreachable:NoExecute`);

  try {
    await eventually(async () => {
      const items = (await listPods()).filter((p) => !p.metadata.deletionTimestamp);
      return items.length === 2 && items.every((p) => p.spec.nodeName === survivor.nodeName && isRunning(p)) && !items.some((p) => onVictim.has(p.metadata.name));
    }, 60_000, `both replicas Running on ${survivor.nodeName}`);
  } catch (err) {
    const pods = await s.kubectl(['get', 'pods', '-o', 'wide', '-l', 'app=survivor']);
    const taints = await s.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.taints}{"\\n"}{end}']);
    throw new Error(`${(err as Error).message}\n${pods.stdout}\n${taints.stdout}`);
  }
});
