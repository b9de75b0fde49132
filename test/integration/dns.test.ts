// Cluster DNS end to end on a real node: the agent serves the cluster DNS address on a
// dummy interface of its own; pods get it as their nameserver (resolv.conf written by
// the agent's dnsPolicy rules) and resolve Services with busybox's nslookup; the test
// process asks the same server from the node (node:dns) for A, SRV and PTR records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import path from 'node:path';
import { agentUnavailable, eventually, startServer, type TestServer } from '../helpers/cluster.ts';
import { isReady, isRunning, podWaiter, TEST_IMAGE } from '../helpers/pods.ts';
import { agentNames } from '../../src/agent/containerd/names.ts';
import { cleanupNodeLocalDns, dnsInterfaceName } from '../../src/dns/node-local.ts';

const skip = agentUnavailable();
let s: TestServer;
let clusterDns = '';

before(async () => {
  if (skip) return;
  s = await startServer({ agent: true });
  clusterDns = (await s.request('GET', '/api/v1/namespaces/kube-system/configmaps/skiff-cluster')).json.data.clusterDNS;
});
after(async () => {
  if (!s) return;
  if (s.process.exitCode !== null || s.process.signalCode !== null) {
    console.error(`the server exited (${s.process.exitCode ?? s.process.signalCode}):\n${s.output().slice(-4000)}`);
  }
  try {
    await s.stop(); // killall removes the DNS interface too
  } finally {
    // Whether or not killall got that far.
    await cleanupNodeLocalDns(agentNames(path.join(s.dataDir, 'agent')));
  }
});

const { waitPod } = podWaiter(() => s);
const apply = (yaml: string) => s.kubectlOk(['apply', '-f', '-'], { input: yaml });
const exec = (pod: string, ...cmd: string[]) => s.kubectl(['exec', pod, '--', ...cmd], { timeoutMs: 30_000 });

function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile('ip', args, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))));
}

/** The addresses busybox nslookup printed after the "Name:" line(s), in order. */
function addresses(out: string): string[] {
  const answer = out.split(/\n\s*\n/).slice(1).join('\n');
  return [...answer.matchAll(/Address:\s*(\S+)/g)].map((m) => m[1]!).filter((a) => !a.includes(':53'));
}

async function nslookup(pod: string, ...args: string[]): Promise<string> {
  const r = await exec(pod, 'nslookup', ...args);
  return `${r.stdout}${r.stderr}`;
}

/**
 * What the pod's libc resolver makes of a name (search list and ndots applied, which
 * busybox nslookup skips for names with a dot): ping prints the address it resolved.
 */
async function libcResolve(pod: string, name: string): Promise<string | undefined> {
  const r = await exec(pod, 'ping', '-c', '1', '-W', '1', name);
  return /PING \S+ \((\S+?)\)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? `${r.stdout}${r.stderr}`;
}

const sorted = (xs: string[]) => [...xs].sort();

test('pods resolve Services by short name, name.namespace and FQDN; headless names give the ready pods', { skip }, async () => {
  await apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: ${TEST_IMAGE}
        command: [sh, -c, 'mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www']
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: box, labels: {app: web}}
spec:
  hostname: box
  subdomain: web-headless
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${TEST_IMAGE}
    command: [sh, -c, 'mkdir -p /www && exec httpd -f -p 8080 -h /www']
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${TEST_IMAGE}
    command: [sleep, '3600']
`);
  await waitPod('client', isRunning, 'running', 60_000);
  const box = await waitPod('box', isReady, 'ready', 60_000);
  const svcIP = (await s.request('GET', '/api/v1/namespaces/default/services/web')).json.spec.clusterIP;
  const webPods = await eventually(async () => {
    const list = (await s.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).json.items;
    return list.length === 3 && list.every(isReady) && list;
  }, 60_000, 'three ready app=web pods');
  const podIPs = sorted(webPods.map((p: any) => p.status.podIP));

  // The pod's resolv.conf: cluster DNS, the namespace's search path, ndots:5.
  const resolv = (await exec('client', 'cat', '/etc/resolv.conf')).stdout;
  assert.match(resolv, new RegExp(`^nameserver ${clusterDns.replace(/\./g, '\\.')}$`, 'm'), resolv);
  assert.equal(resolv.match(/^nameserver/gm)?.length, 1, resolv);
  assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m, resolv);
  assert.match(resolv, /^options ndots:5$/m, resolv);

  for (const name of ['web', 'web.default.svc.cluster.local', 'web.default.svc.cluster.local.']) {
    const out = await nslookup('client', name);
    assert.deepEqual(addresses(out), [svcIP], `nslookup ${name}:\n${out}`);
  }
  // Names with dots go through the search list in the pod's own resolver.
  for (const name of ['web', 'web.default', 'web.default.svc', 'web.default.svc.cluster.local']) {
    assert.equal(await libcResolve('client', name), svcIP, name);
  }
  // The headless service: every ready endpoint (the EndpointSlice may lag the pods by a moment).
  await eventually(async () => {
    const out = await nslookup('client', 'web-headless');
    return JSON.stringify(sorted(addresses(out))) === JSON.stringify(podIPs);
  }, 20_000, `web-headless resolving to ${podIPs}`);
  // The pod with hostname + subdomain.
  const boxOut = await nslookup('client', 'box.web-headless.default.svc.cluster.local');
  assert.deepEqual(addresses(boxOut), [box.status.podIP], boxOut);
  assert.equal(await libcResolve('client', 'box.web-headless'), box.status.podIP);
  // SRV for the named port: port 80 on the service name.
  const srv = await nslookup('client', '-type=srv', '_http._tcp.web.default.svc.cluster.local');
  assert.match(srv, /_http\._tcp\.web\.default\.svc\.cluster\.local\s+service = 0 100 80 web\.default\.svc\.cluster\.local/, srv);
  // kube-dns itself, and a name that does not exist.
  assert.deepEqual(addresses(await nslookup('client', 'kube-dns.kube-system.svc.cluster.local')), [clusterDns]);
  assert.equal(await libcResolve('client', 'kube-dns.kube-system'), clusterDns);
  const missing = await nslookup('client', 'nope.default.svc.cluster.local');
  assert.match(missing, /NXDOMAIN|can't find/, missing);
  assert.deepEqual(addresses(missing), []);
});

test('the node itself asks the cluster DNS address: A, SRV and PTR', { skip }, async () => {
  const r = new Resolver({ timeout: 2_000, tries: 2 });
  r.setServers([clusterDns]);
  const svcIP = (await s.request('GET', '/api/v1/namespaces/default/services/web')).json.spec.clusterIP;
  assert.deepEqual(await r.resolve4('web.default.svc.cluster.local'), [svcIP]);
  const srv = await r.resolveSrv('_http._tcp.web.default.svc.cluster.local');
  assert.deepEqual(srv, [{ name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
  // Headless SRV: one per ready endpoint, on the endpoint port.
  const headless = await r.resolveSrv('_http._tcp.web-headless.default.svc.cluster.local');
  assert.equal(headless.length, 3, JSON.stringify(headless));
  assert.ok(headless.every((x) => x.port === 8080 && x.name.endsWith('.web-headless.default.svc.cluster.local')), JSON.stringify(headless));
  assert.ok(headless.some((x) => x.name === 'box.web-headless.default.svc.cluster.local'), JSON.stringify(headless));
  assert.deepEqual(await r.reverse(svcIP), ['web.default.svc.cluster.local']);
  await assert.rejects(r.resolve4('nope.default.svc.cluster.local'), { code: 'ENOTFOUND' });
  // A new Service is answered as soon as the informer sees it.
  await s.kubectlOk(['create', 'service', 'clusterip', 'late', '--tcp=81:81']);
  const lateIP = (await s.request('GET', '/api/v1/namespaces/default/services/late')).json.spec.clusterIP;
  await eventually(async () => JSON.stringify(await r.resolve4('late.default.svc.cluster.local').catch(() => [])) === JSON.stringify([lateIP]), 10_000, 'late resolving');
  // And the agent's interface carries the address.
  const link = await ip(['-br', 'addr', 'show', 'dev', dnsInterfaceName(agentNames(path.join(s.dataDir, 'agent')))]);
  assert.match(link, new RegExp(`\\b${clusterDns.replace(/\./g, '\\.')}/32\\b`), link);
});

test('dnsPolicy Default gets the node\'s resolv.conf, None only dnsConfig; hostNetwork pods per ClusterFirst / ClusterFirstWithHostNet', { skip }, async () => {
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: dns-default}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: ${TEST_IMAGE}, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Pod
metadata: {name: dns-none}
spec:
  dnsPolicy: None
  dnsConfig:
    nameservers: [${clusterDns}]
    searches: [web-headless.default.svc.cluster.local, example.test]
    options: [{name: ndots, value: '2'}, {name: edns0}]
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: ${TEST_IMAGE}, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Pod
metadata: {name: host-cluster}
spec:
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: ${TEST_IMAGE}, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Pod
metadata: {name: host-default}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: ${TEST_IMAGE}, command: [sleep, '3600']}]
`);
  await waitPod('dns-default', isRunning, 'running', 60_000);
  await waitPod('dns-none', isRunning, 'running', 60_000);
  const host = (await import('node:fs')).readFileSync('/etc/resolv.conf', 'utf8');
  const hostServers = [...host.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);
  const def = (await exec('dns-default', 'cat', '/etc/resolv.conf')).stdout;
  assert.deepEqual([...def.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]), hostServers.slice(0, 3), def);
  assert.doesNotMatch(def, /svc\.cluster\.local|ndots:5/, def);
  const none = (await exec('dns-none', 'cat', '/etc/resolv.conf')).stdout;
  assert.deepEqual([...none.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]), [clusterDns], none);
  assert.match(none, /^search web-headless\.default\.svc\.cluster\.local example\.test$/m, none);
  assert.match(none, /^options ndots:2 edns0$/m, none);
  // hostNetwork: ClusterFirst means the node's resolvers; ClusterFirstWithHostNet the
  // cluster's, reached from the node's own network namespace.
  await waitPod('host-cluster', isRunning, 'running', 60_000);
  await waitPod('host-default', isRunning, 'running', 60_000);
  const hostDefault = (await exec('host-default', 'cat', '/etc/resolv.conf')).stdout;
  assert.deepEqual([...hostDefault.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]), hostServers.slice(0, 3), hostDefault);
  const hostCluster = (await exec('host-cluster', 'cat', '/etc/resolv.conf')).stdout;
  assert.match(hostCluster, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m, hostCluster);
  const svcIP = (await s.request('GET', '/api/v1/namespaces/default/services/web')).json.spec.clusterIP;
  assert.deepEqual(addresses(await nslookup('host-cluster', 'web')), [svcIP]);
  // Its search path is honoured: the bare pod hostname resolves through it.
  const box = (await s.request('GET', '/api/v1/namespaces/default/pods/box')).json;
  assert.deepEqual(addresses(await nslookup('dns-none', 'box')), [box.status.podIP]);
});
