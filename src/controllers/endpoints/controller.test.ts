import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { EndpointsController, LAST_CHANGE_TRIGGER_TIME } from './controller.ts';
import { makePod, makeService, setPodStatus } from './testutil.ts';

type Json = Record<string, any>;

async function endpointsOf(tb: TestBed, name: string): Promise<KObject | undefined> {
  return tb.api.resource('', 'v1', 'endpoints').tryGet('default', name);
}

const ips = (list: Json[] | undefined): string[] => (list ?? []).map((a) => a.ip);

async function settled(tb: TestBed, c: EndpointsController): Promise<void> {
  // Let watch events reach the informers, then wait for the queue to drain.
  await new Promise((r) => setTimeout(r, 50));
  await tb.until(() => c.idle, 5000, 'endpoints controller idle');
}

test('endpoints follow pods: named ports, readiness, deletion', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const c = new EndpointsController();
  await tb.run(c);

  await makeService(tb, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }, { tier: 'front' });
  await makePod(tb, 'a', { ip: '10.42.0.10', ready: true, nodeName: 'n1' });
  const b = await makePod(tb, 'b', { ip: '10.42.0.9', ready: false, nodeName: 'n1' });
  await makePod(tb, 'c', { ip: '10.42.1.5', ready: true, ports: [{ name: 'http', containerPort: 9090 }] });
  await makePod(tb, 'no-ip');
  await makePod(tb, 'other', { ip: '10.42.0.50', labels: { app: 'db' } });
  await makePod(tb, 'no-port', { ip: '10.42.0.60', ports: [{ name: 'metrics', containerPort: 9100 }] });

  const ep = await tb.until(async () => {
    const e = await endpointsOf(tb, 'web');
    return e && (e.subsets as Json[] | undefined)?.length === 2 && (e.subsets as Json[])[0]!.notReadyAddresses ? e : undefined;
  }, 5000, 'endpoints with two subsets');
  const subsets = ep.subsets as Json[];
  assert.deepEqual(subsets[0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(ips(subsets[0]!.addresses), ['10.42.0.10']);
  assert.deepEqual(ips(subsets[0]!.notReadyAddresses), ['10.42.0.9']);
  assert.deepEqual(subsets[1]!.ports, [{ name: 'http', port: 9090, protocol: 'TCP' }]);
  assert.deepEqual(ips(subsets[1]!.addresses), ['10.42.1.5']);
  const a = subsets[0]!.addresses[0];
  assert.equal(a.nodeName, 'n1');
  assert.equal(a.targetRef.kind, 'Pod');
  assert.equal(a.targetRef.name, 'a');
  assert.ok(a.targetRef.uid);
  assert.deepEqual(ep.metadata.labels, { tier: 'front' });
  assert.ok(ep.metadata.annotations?.[LAST_CHANGE_TRIGGER_TIME]);

  // b becomes ready: both addresses in one list, sorted by IP.
  await setPodStatus(tb, b, { ip: '10.42.0.9', ready: true });
  await tb.until(async () => {
    const e = await endpointsOf(tb, 'web');
    return ips((e?.subsets as Json[])?.[0]?.addresses).join() === '10.42.0.9,10.42.0.10' && !(e!.subsets as Json[])[0]!.notReadyAddresses;
  }, 5000, 'b ready');

  // Nothing changed: a sync writes nothing.
  await settled(tb, c);
  const before = (await endpointsOf(tb, 'web'))!.metadata.resourceVersion;
  await c.sync('default/web');
  assert.equal((await endpointsOf(tb, 'web'))!.metadata.resourceVersion, before);

  // a is deleted (bound to a node, so it terminates gracefully): it leaves at once.
  await tb.api.resource('', 'v1', 'pods').delete('default', 'a');
  // c is deleted outright: its subset goes.
  await tb.api.resource('', 'v1', 'pods').delete('default', 'c');
  await tb.until(async () => {
    const e = await endpointsOf(tb, 'web');
    const s = e?.subsets as Json[] | undefined;
    return s?.length === 1 && ips(s[0]!.addresses).join() === '10.42.0.9';
  }, 5000, 'a and c gone');

  // The Service goes, and its Endpoints with it.
  await tb.api.resource('', 'v1', 'services').delete('default', 'web');
  await tb.until(async () => !(await endpointsOf(tb, 'web')), 5000, 'endpoints deleted');
});

test('services without selector are left alone; deleted Endpoints come back', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const c = new EndpointsController();
  await tb.run(c);
  await makeService(tb, 'manual', { ports: [{ port: 80 }] });
  await tb.api.resource('', 'v1', 'endpoints').create({
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '192.168.1.1' }], ports: [{ port: 80 }] }],
  });
  await makeService(tb, 'empty', { selector: { app: 'none' }, ports: [{ port: 80 }] });
  const empty = await tb.until(() => endpointsOf(tb, 'empty'), 5000, 'empty endpoints');
  assert.equal(empty.subsets, undefined);
  await settled(tb, c);
  const manual = await endpointsOf(tb, 'manual');
  assert.deepEqual(ips((manual!.subsets as Json[])[0]!.addresses), ['192.168.1.1']);

  await tb.api.resource('', 'v1', 'endpoints').delete('default', 'empty');
  await tb.until(async () => (await endpointsOf(tb, 'empty'))?.metadata.uid !== empty.metadata.uid ? endpointsOf(tb, 'empty') : undefined, 5000, 'recreated');
});

test('hostname, headless without ports, publishNotReadyAddresses and terminating pods', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const c = new EndpointsController();
  await tb.run(c);
  await makeService(tb, 'db', { selector: { app: 'db' }, clusterIP: 'None' });
  await makeService(tb, 'db-all', { selector: { app: 'db' }, ports: [{ port: 5432 }], publishNotReadyAddresses: true });
  await makePod(tb, 'db-0', { labels: { app: 'db' }, ip: '10.42.0.2', ready: true, hostname: 'db-0', subdomain: 'db', nodeName: 'n1' });
  await makePod(tb, 'db-1', { labels: { app: 'db' }, ip: '10.42.0.3', ready: false, hostname: 'db-1', subdomain: 'db' });

  const headless = await tb.until(async () => {
    const e = await endpointsOf(tb, 'db');
    return (e?.subsets as Json[] | undefined)?.[0]?.notReadyAddresses ? e : undefined;
  }, 5000, 'headless endpoints');
  const ss = (headless.subsets as Json[])[0]!;
  assert.equal(ss.ports, undefined);
  assert.equal(ss.addresses[0].hostname, 'db-0');
  assert.equal(ss.notReadyAddresses[0].hostname, 'db-1');
  assert.equal(headless.metadata.labels?.['service.kubernetes.io/headless'], '');

  const all = await tb.until(async () => {
    const e = await endpointsOf(tb, 'db-all');
    return ips((e?.subsets as Json[] | undefined)?.[0]?.addresses).length === 2 ? e : undefined;
  }, 5000, 'publishNotReady endpoints');
  const s0 = (all.subsets as Json[])[0]!;
  assert.equal(s0.addresses[0].hostname, undefined, 'subdomain names another service');
  assert.deepEqual(s0.ports, [{ port: 5432, protocol: 'TCP' }]);

  // db-0 terminates: gone from the headless service, kept by publishNotReadyAddresses.
  await tb.api.resource('', 'v1', 'pods').delete('default', 'db-0');
  await tb.until(async () => {
    const e = await endpointsOf(tb, 'db');
    const s = (e?.subsets as Json[] | undefined)?.[0];
    return s && !s.addresses && ips(s.notReadyAddresses).join() === '10.42.0.3';
  }, 5000, 'terminating pod dropped');
  await settled(tb, c);
  assert.equal(ips(((await endpointsOf(tb, 'db-all'))!.subsets as Json[])[0]!.addresses).length, 2);
});
