import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testBed } from '../testing.ts';
import { ServiceAccountController } from './controller.ts';

test('every namespace gets a default ServiceAccount, recreated when deleted', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const sas = tb.api.resource('', 'v1', 'serviceaccounts');
  const c = new ServiceAccountController();
  await tb.run(c);

  // The namespaces that existed before the controller started.
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await tb.until(() => sas.tryGet(ns, 'default'), 5000, `default SA in ${ns}`);
  }
  await tb.api.resource('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  const first = await tb.until(() => sas.tryGet('team-a', 'default'), 5000, 'default SA in team-a');

  await sas.delete('team-a', 'default');
  const again = await tb.until(async () => {
    const sa = await sas.tryGet('team-a', 'default');
    return sa && sa.metadata.uid !== first.metadata.uid ? sa : undefined;
  }, 5000, 'default SA recreated');
  assert.equal(again.metadata.name, 'default');

  // Other accounts are not the controller's business.
  await sas.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'team-a' } });
  await sas.delete('team-a', 'builder');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await sas.tryGet('team-a', 'builder'), undefined);
});

test('terminating namespaces are skipped', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const sas = tb.api.resource('', 'v1', 'serviceaccounts');
  const namespaces = tb.api.resource('', 'v1', 'namespaces');
  await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'going' } });
  await namespaces.delete(undefined, 'going'); // waits on the "kubernetes" finalizer: Terminating
  const c = new ServiceAccountController();
  await tb.run(c);
  await tb.until(() => sas.tryGet('default', 'default'), 5000, 'default SA in default');
  await new Promise((r) => setTimeout(r, 100));
  await tb.until(() => c.idle, 5000, 'idle');
  assert.equal(await sas.tryGet('going', 'default'), undefined);
});
