import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { formatFieldError } from '../../api/field-error.ts';
import { ApiError } from '../errors.ts';
import { allocateServiceAddresses, kubernetesServiceIP, parseServiceCidr, ServiceAllocationLock } from './service-ips.ts';

type Svc = KObject & { spec: Record<string, any> };
const svc = (name: string, spec: Record<string, unknown> = {}): Svc =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec } }) as Svc;
const range = parseServiceCidr('10.43.0.0/16');
const errors = (s: KObject, others: KObject[], old?: KObject) => allocateServiceAddresses(s, old, others, range).map(formatFieldError);

test('the service CIDR: normalised, the kubernetes address first', () => {
  assert.equal(parseServiceCidr('10.43.7.9/16').text, '10.43.0.0/16');
  assert.equal(kubernetesServiceIP(range), '10.43.0.1');
  assert.equal(parseServiceCidr('fd00::/108,10.96.0.0/12').text, '10.96.0.0/12');
  assert.throws(() => parseServiceCidr('nonsense'));
});

test('first free address, skipping the network address, .1 and taken ones', () => {
  const a = svc('a');
  assert.deepEqual(errors(a, []), []);
  assert.equal(a.spec.clusterIP, '10.43.0.2');
  assert.deepEqual(a.spec.clusterIPs, ['10.43.0.2']);
  const b = svc('b');
  errors(b, [svc('k', { clusterIP: '10.43.0.1' }), svc('x', { clusterIP: '10.43.0.2', clusterIPs: ['10.43.0.2'] }), svc('y', { clusterIP: '10.43.0.4' })]);
  assert.equal(b.spec.clusterIP, '10.43.0.3');
});

test('headless and ExternalName services get no address', () => {
  const h = svc('h', { clusterIP: 'None' });
  assert.deepEqual(errors(h, []), []);
  assert.equal(h.spec.clusterIP, 'None');
  const e = svc('e', { type: 'ExternalName', externalName: 'example.com', ports: [] });
  assert.deepEqual(errors(e, []), []);
  assert.equal(e.spec.clusterIP, undefined);
});

test('a chosen address must be in range and free', () => {
  assert.deepEqual(errors(svc('a', { clusterIP: '1.2.3.4' }), []),
    ['spec.clusterIPs[0]: Invalid value: "1.2.3.4": provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16']);
  assert.deepEqual(errors(svc('a', { clusterIP: '10.43.255.255' }), []).length, 1); // broadcast
  assert.deepEqual(errors(svc('a', { clusterIP: '10.43.0.5' }), [svc('b', { clusterIP: '10.43.0.5' })]),
    ['spec.clusterIPs[0]: Invalid value: "10.43.0.5": provided IP is already allocated']);
  const ok = svc('a', { clusterIP: '10.43.0.5' });
  assert.deepEqual(errors(ok, []), []);
  assert.deepEqual(ok.spec.clusterIPs, ['10.43.0.5']);
});

test('an update keeps its own address and node ports', () => {
  const old = svc('a', { type: 'NodePort', clusterIP: '10.43.0.9', ports: [{ port: 80, nodePort: 30005 }] });
  const next = structuredClone(old);
  assert.deepEqual(errors(next, [], old), []);
  assert.equal(next.spec.clusterIP, '10.43.0.9');
});

test('a full range is an internal error', () => {
  const small = parseServiceCidr('10.0.0.0/29'); // .1 reserved, .2-.6 usable
  const others = [2, 3, 4, 5, 6].map((n) => svc(`s${n}`, { clusterIP: `10.0.0.${n}` }));
  assert.throws(() => allocateServiceAddresses(svc('x'), undefined, others, small),
    (err: unknown) => err instanceof ApiError && err.code === 500 && /range is full/.test(err.message));
  const last = svc('x');
  allocateServiceAddresses(last, undefined, others.slice(1), small);
  assert.equal(last.spec.clusterIP, '10.0.0.2');
});

test('node ports: first free, chosen ones checked for duplicates, none for ClusterIP', () => {
  const np = svc('np', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30001 }] });
  assert.deepEqual(errors(np, [svc('o', { type: 'NodePort', clusterIP: '10.43.0.2', ports: [{ port: 1, nodePort: 30000 }] })]), []);
  assert.deepEqual(np.spec.ports.map((p: any) => p.nodePort), [30002, 30001]);
  assert.deepEqual(errors(svc('d', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), [svc('o', { type: 'NodePort', ports: [{ port: 1, nodePort: 30080 }] })]),
    ['spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated']);
  const lb = svc('lb', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false });
  errors(lb, []);
  assert.equal(lb.spec.ports[0].nodePort, undefined);
  const c = svc('c');
  errors(c, []);
  assert.equal(c.spec.ports[0].nodePort, undefined);
});

test('changing the type to NodePort allocates node ports', () => {
  const old = svc('a', { clusterIP: '10.43.0.2', clusterIPs: ['10.43.0.2'] });
  const next = svc('a', { type: 'NodePort', clusterIP: '10.43.0.2', clusterIPs: ['10.43.0.2'] });
  assert.deepEqual(errors(next, [], old), []);
  assert.equal(next.spec.ports[0].nodePort, 30000);
});

test('the lock runs one at a time, even after a failure', async () => {
  const lock = new ServiceAllocationLock();
  const order: string[] = [];
  const slow = (name: string, ms: number, fail = false) => lock.run(async () => {
    order.push(`${name}>`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`<${name}`);
    if (fail) throw new Error(name);
    return name;
  });
  const results = await Promise.allSettled([slow('a', 20, true), slow('b', 1), slow('c', 5)]);
  assert.deepEqual(order, ['a>', '<a', 'b>', '<b', 'c>', '<c']);
  assert.equal(results[0].status, 'rejected');
  assert.deepEqual(results.slice(1).map((r) => (r as PromiseFulfilledResult<string>).value), ['b', 'c']);
});
