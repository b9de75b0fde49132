import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { ServiceLBController } from './controller.ts';
import { admitLoadBalancers } from './admission.ts';
import { readyNodeIPs } from './addresses.ts';

const lb = (name: string, ports: { port: number; protocol?: string }[], extra: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: ports.map((p, i) => ({ name: `p${i}`, protocol: 'TCP', targetPort: p.port, ...p })), ...extra },
});

async function node(tb: TestBed, name: string, ip: string, ready: boolean): Promise<void> {
  const nodes = tb.api.resource('', 'v1', 'nodes');
  const existing = await nodes.tryGet(undefined, name) ?? await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  existing.status = {
    addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
  };
  await nodes.updateStatus(existing);
}

const ingressOf = (svc: KObject | undefined) => (svc?.status as any)?.loadBalancer?.ingress as { ip: string; ipMode: string }[] | undefined;

test('addresses: Ready nodes only, InternalIPs sorted numerically', () => {
  const n = (name: string, ip: string, ready: string): KObject => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name },
    status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'ExternalIP', address: '203.0.113.1' }], conditions: [{ type: 'Ready', status: ready }] },
  });
  assert.deepEqual(readyNodeIPs([n('a', '10.0.0.10', 'True'), n('b', '10.0.0.9', 'True'), n('c', '10.0.0.1', 'Unknown'), n('d', '10.0.0.9', 'True')]), ['10.0.0.9', '10.0.0.10']);
});

test('admission: per port and protocol, older first, address holders first, pending Services hold nothing', () => {
  const at = (svc: KObject, t: string, addr = false) => {
    svc.metadata.creationTimestamp = t;
    if (addr) svc.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
    return svc;
  };
  const a = at(lb('a', [{ port: 80 }]), '2026-01-01T00:00:01Z');
  const b = at(lb('b', [{ port: 80 }, { port: 443 }]), '2026-01-01T00:00:02Z');
  const c = at(lb('c', [{ port: 443 }]), '2026-01-01T00:00:03Z');
  const d = at(lb('d', [{ port: 80, protocol: 'UDP' }]), '2026-01-01T00:00:04Z');
  const e = at(lb('e', [{ port: 80 }], { loadBalancerClass: 'example.com/other' }), '2026-01-01T00:00:00Z');
  const r = admitLoadBalancers([e, d, c, b, a]);
  assert.deepEqual(r.get('default/a'), { admitted: true });
  assert.deepEqual(r.get('default/b'), { admitted: false, port: 80, protocol: 'TCP', heldBy: 'default/a' });
  assert.deepEqual(r.get('default/c'), { admitted: true }, 'b is pending, so 443 is free');
  assert.deepEqual(r.get('default/d'), { admitted: true }, 'UDP 80 is another port');
  assert.equal(r.get('default/e'), undefined, 'a loadBalancerClass is not ours');
  // A newer Service that already has the address keeps it against an older newcomer.
  const old = at(lb('old', [{ port: 80 }]), '2025-01-01T00:00:00Z');
  assert.equal(admitLoadBalancers([old, at(lb('a', [{ port: 80 }]), '2026-01-01T00:00:01Z', true)]).get('default/old')?.admitted, false);
});

test('LoadBalancer Services get the Ready nodes as addresses, follow the nodes, wait for a taken port, and lose the address when no longer LoadBalancer', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const services = tb.api.resource('', 'v1', 'services');
  await node(tb, 'n1', '192.0.2.11', true);
  await node(tb, 'n2', '192.0.2.12', true);
  await node(tb, 'n3', '192.0.2.13', false);
  await tb.run(new ServiceLBController());

  await services.create(lb('web', [{ port: 80 }]));
  await services.create(lb('other-class', [{ port: 8080 }], { loadBalancerClass: 'example.com/lb' }));
  await services.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'plain', namespace: 'default' }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } });
  const want = (...ips: string[]) => ips.map((ip) => ({ ip, ipMode: 'VIP' }));
  const get = (name: string) => services.tryGet('default', name);
  const until = (name: string, ips: string[], what: string) =>
    tb.until(async () => { const s = await get(name); return JSON.stringify(ingressOf(s) ?? []) === JSON.stringify(want(...ips)) && s; }, 5000, what);

  await until('web', ['192.0.2.11', '192.0.2.12'], 'web gets the Ready nodes');
  // A node becoming Ready is added; a deleted node is removed.
  await node(tb, 'n3', '192.0.2.13', true);
  await until('web', ['192.0.2.11', '192.0.2.12', '192.0.2.13'], 'n3 added');
  await tb.api.resource('', 'v1', 'nodes').delete(undefined, 'n1');
  await until('web', ['192.0.2.12', '192.0.2.13'], 'n1 removed');

  // Port 80/TCP is web's: web2 stays pending with a Warning; 80/UDP is free.
  await services.create(lb('web2', [{ port: 80 }]));
  await services.create(lb('dns', [{ port: 80, protocol: 'UDP' }]));
  await until('dns', ['192.0.2.12', '192.0.2.13'], 'dns on 80/UDP');
  const warned = await tb.until(() => tb.events.find((e) => e.object === 'Service/default/web2'), 5000, 'a warning for web2');
  assert.equal(warned.type, 'Warning');
  assert.equal(warned.reason, 'PortConflict');
  assert.match(warned.message, /80\/TCP is already used by LoadBalancer Service default\/web/);
  assert.equal(ingressOf(await get('web2'))?.length ?? 0, 0);
  assert.equal(ingressOf(await get('other-class')), undefined, 'another loadBalancerClass: untouched');
  assert.equal(ingressOf(await get('plain')), undefined);

  // web goes away: web2 gets the port.
  await services.delete('default', 'web');
  await until('web2', ['192.0.2.12', '192.0.2.13'], 'web2 admitted once web is gone');

  // web2 becomes a ClusterIP Service: its address is cleared.
  const cur = (await get('web2'))!;
  const spec = cur.spec as any;
  spec.type = 'ClusterIP';
  delete spec.externalTrafficPolicy;
  delete spec.allocateLoadBalancerNodePorts;
  for (const p of spec.ports) delete p.nodePort;
  await services.update(cur);
  await tb.until(async () => { const s = await get('web2'); return (s?.spec as any).type === 'ClusterIP' && (ingressOf(s)?.length ?? 0) === 0; }, 5000, 'web2 address cleared');
  assert.equal(tb.events.filter((e) => e.reason === 'PortConflict').length, 1, 'one warning per conflict');
});
