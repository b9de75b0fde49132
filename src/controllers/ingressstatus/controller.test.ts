import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { IngressStatusController } from './controller.ts';

async function node(tb: TestBed, name: string, ip: string, ready: boolean): Promise<void> {
  const nodes = tb.api.resource('', 'v1', 'nodes');
  const n = await nodes.tryGet(undefined, name) ?? await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  n.status = { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  await nodes.updateStatus(n);
}

const ingress = (name: string, className?: string): KObject => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' },
  spec: { ...(className ? { ingressClassName: className } : {}), defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
});

const ipsOf = (ing: KObject | undefined) => ((ing?.status as any)?.loadBalancer?.ingress ?? []).map((i: any) => i.ip);

test('Ingresses of class skiff get the Ready nodes as their address; others are left alone', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const ingresses = tb.api.resource('networking.k8s.io', 'v1', 'ingresses');
  const classes = tb.api.resource('networking.k8s.io', 'v1', 'ingressclasses');
  await node(tb, 'n1', '192.0.2.21', true);
  await node(tb, 'n2', '192.0.2.22', false);
  await tb.run(new IngressStatusController());

  await ingresses.create(ingress('ours', 'skiff'));
  await ingresses.create(ingress('nginx', 'nginx'));
  await ingresses.create(ingress('classless'));
  const get = (name: string) => ingresses.tryGet('default', name);
  const until = (name: string, ips: string[], what: string) =>
    tb.until(async () => JSON.stringify(ipsOf(await get(name))) === JSON.stringify(ips), 5000, what);

  await until('ours', ['192.0.2.21'], 'ours gets n1');
  await node(tb, 'n2', '192.0.2.22', true);
  await until('ours', ['192.0.2.21', '192.0.2.22'], 'n2 Ready: added');
  assert.deepEqual(ipsOf(await get('nginx')), []);
  assert.deepEqual(ipsOf(await get('classless')), [], 'no default class yet');

  // IngressClass skiff marked default: class-less Ingresses are ours too.
  await classes.create({
    apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
    metadata: { name: 'skiff', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'skiff.io/ingress' },
  });
  await until('classless', ['192.0.2.21', '192.0.2.22'], 'classless taken by the default class');
  await node(tb, 'n1', '192.0.2.21', false);
  await until('ours', ['192.0.2.22'], 'n1 NotReady: removed');
  assert.deepEqual(ipsOf(await get('nginx')), []);
});
