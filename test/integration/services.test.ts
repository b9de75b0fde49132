// Service cluster IP and node port allocation at the API, and the `kubernetes` Service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import tls from 'node:tls';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-svc-'));
before(async () => { s = await startServer({ dataDir }); });
after(async () => { await s?.stop(); rmSync(dataDir, { recursive: true, force: true }); });

const SVCS = '/api/v1/namespaces/default/services';
const service = (name: string, spec: Record<string, unknown>) =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } });
const clusterIP = async (name: string): Promise<string> =>
  (await s.kubectlOk(['get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}'])).trim();

test('kubectl create service clusterip gets an address of the service CIDR', async () => {
  await s.kubectlOk(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
  const ip = await clusterIP('web');
  assert.match(ip, /^10\.43\.\d+\.\d+$/);
  assert.notEqual(ip, '10.43.0.1');
  assert.equal((await s.kubectlOk(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIPs[0]}'])).trim(), ip);
  await s.kubectlOk(['create', 'service', 'clusterip', 'headless', '--clusterip=None']);
  assert.equal(await clusterIP('headless'), 'None');
});

test('the kubernetes Service: 10.43.0.1:443 with Endpoints to the API server at the node address', async () => {
  const out = await s.kubectlOk(['get', 'svc', 'kubernetes']);
  assert.match(out, /kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP/);
  const port = Number(new URL(s.url).port);
  const ep = JSON.parse(await s.kubectlOk(['get', 'endpoints', 'kubernetes', '-o', 'json']));
  // Pods cannot reach the server on loopback: the endpoint is a non-loopback address of this machine.
  const own = Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
  const ip = ep.subsets[0].addresses[0].ip;
  assert.ok(own.includes(ip), `${ip} is not one of ${own}`);
  assert.deepEqual(ep.subsets, [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }]);
  // The serving certificate is valid for the Service IP, which in-cluster clients dial.
  const sans = await new Promise<string>((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { resolve(sock.getPeerCertificate().subjectaltname ?? ''); sock.end(); });
    sock.on('error', reject);
  });
  assert.match(sans, /IP Address:10\.43\.0\.1\b/);
  assert.match(sans, new RegExp(`IP Address:${ip.replace(/\./g, '\\.')}\\b`));
});

test('kube-dns holds the cluster DNS address, and the cluster networks are published for agents', async () => {
  const out = await s.kubectlOk(['get', 'svc', '-n', 'kube-system', 'kube-dns']);
  assert.match(out, /kube-dns\s+ClusterIP\s+10\.43\.0\.10\s+<none>\s+53\/UDP,53\/TCP/);
  const cm = JSON.parse(await s.kubectlOk(['get', 'configmap', '-n', 'kube-system', 'skiff-cluster', '-o', 'json']));
  assert.deepEqual(cm.data, { clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDNS: '10.43.0.10', clusterDomain: 'cluster.local' });
  const taken = await s.kubectl(['create', 'service', 'clusterip', 'steal-dns', '--tcp=53:53', '--clusterip=10.43.0.10']);
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /already allocated/);
});

test('NodePort services get a node port in 30000-32767', async () => {
  await s.kubectlOk(['create', 'service', 'nodeport', 'np', '--tcp=80:8080']);
  const port = Number(await s.kubectlOk(['get', 'svc', 'np', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
  assert.ok(port >= 30000 && port <= 32767, String(port));
});

test('chosen addresses and node ports: out of range or taken is a 422', async () => {
  const taken = await clusterIP('web');
  const dup = await s.request('POST', SVCS, { body: service('dup', { clusterIP: taken }) });
  assert.equal(dup.status, 422, dup.text);
  assert.equal(dup.json.message, `Service "dup" is invalid: spec.clusterIPs[0]: Invalid value: "${taken}": provided IP is already allocated`);
  const out = await s.request('POST', SVCS, { body: service('out', { clusterIP: '1.2.3.4' }) });
  assert.equal(out.status, 422);
  assert.match(out.json.message, /spec\.clusterIPs\[0\]: Invalid value: "1\.2\.3\.4": provided IP is not in the valid range. The range of valid IPs is 10\.43\.0\.0\/16/);

  const first = await s.request('POST', SVCS, { body: service('np1', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }) });
  assert.equal(first.status, 201, first.text);
  const second = await s.request('POST', SVCS, { body: service('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }) });
  assert.equal(second.status, 422);
  assert.match(second.json.message, /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
  const r = await s.kubectl(['create', 'service', 'clusterip', 'dup2', `--clusterip=${taken}`, '--tcp=80']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /provided IP is already allocated/);
});

test('clusterIP is immutable; a change of type to NodePort allocates node ports', async () => {
  const ip = await clusterIP('web');
  const moved = await s.request('PATCH', `${SVCS}/web`, { body: { spec: { clusterIP: '10.43.200.200' } }, contentType: 'application/merge-patch+json' });
  assert.equal(moved.status, 422, moved.text);
  assert.match(moved.json.message, /spec\.clusterIPs\[0\]: Invalid value: "10\.43\.200\.200": may not change once set/);
  const np = await s.request('PATCH', `${SVCS}/web`, { body: { spec: { type: 'NodePort' } }, contentType: 'application/merge-patch+json' });
  assert.equal(np.status, 200, np.text);
  assert.equal(np.json.spec.clusterIP, ip);
  const port = np.json.spec.ports[0].nodePort;
  assert.ok(port >= 30000 && port <= 32767, String(port));
});

test('concurrent creates get distinct addresses; dry runs reserve nothing', async () => {
  const rs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => s.request('POST', SVCS, { body: service(`par${i}`, {}) })));
  const ips = rs.map((r) => { assert.equal(r.status, 201, r.text); return r.json.spec.clusterIP as string; });
  assert.equal(new Set(ips).size, ips.length, ips.join(' '));
  const dry = await s.request('POST', `${SVCS}?dryRun=All`, { body: service('dry', {}) });
  assert.equal(dry.status, 201, dry.text);
  assert.match(dry.json.spec.clusterIP, /^10\.43\./);
  const real = await s.request('POST', SVCS, { body: service('real', {}) });
  assert.equal(real.json.spec.clusterIP, dry.json.spec.clusterIP);
  // Deleting a Service frees its address.
  assert.equal((await s.request('DELETE', `${SVCS}/real`)).status, 200);
  const again = await s.request('POST', SVCS, { body: service('again', {}) });
  assert.equal(again.json.spec.clusterIP, dry.json.spec.clusterIP);
});

test('after a restart, allocated addresses are not handed out again', async () => {
  const before = JSON.parse(await s.kubectlOk(['get', 'svc', '-A', '-o', 'json'])).items.map((i: any) => i.spec.clusterIP);
  await s.stop();
  s = await startServer({ dataDir });
  await s.kubectlOk(['create', 'service', 'clusterip', 'after', '--tcp=80']);
  const ip = await clusterIP('after');
  assert.ok(!before.includes(ip), `${ip} in ${before.join(' ')}`);
  // The kubernetes Endpoints follow the new port.
  const port = Number(new URL(s.url).port);
  assert.equal(Number(await s.kubectlOk(['get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[0].ports[0].port}'])), port);
  assert.equal((await s.kubectlOk(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.ports[0].targetPort}'])).trim(), String(port));
});
