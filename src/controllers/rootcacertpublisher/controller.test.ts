import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testBed } from '../testing.ts';
import { DESCRIPTION, DESCRIPTION_ANNOTATION, ROOT_CA_CONFIGMAP, RootCACertPublisher } from './controller.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

test('every namespace gets kube-root-ca.crt; deleted or edited, it comes back', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const cms = tb.api.resource('', 'v1', 'configmaps');
  await tb.run(new RootCACertPublisher({ caCertPem: CA }));

  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const cm = await tb.until(() => cms.tryGet(ns, ROOT_CA_CONFIGMAP), 5000, `kube-root-ca.crt in ${ns}`);
    assert.deepEqual(cm.data, { 'ca.crt': CA });
    assert.equal(cm.metadata.annotations?.[DESCRIPTION_ANNOTATION], DESCRIPTION);
  }

  // A new namespace.
  await tb.api.resource('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  const first = await tb.until(() => cms.tryGet('team-a', ROOT_CA_CONFIGMAP), 5000, 'kube-root-ca.crt in team-a');

  // Deleted: recreated.
  await cms.delete('team-a', ROOT_CA_CONFIGMAP);
  const again = await tb.until(async () => {
    const cm = await cms.tryGet('team-a', ROOT_CA_CONFIGMAP);
    return cm && cm.metadata.uid !== first.metadata.uid ? cm : undefined;
  }, 5000, 'kube-root-ca.crt recreated');
  assert.deepEqual(again.data, { 'ca.crt': CA });

  // Edited: put back (extra keys dropped, the annotation restored).
  await cms.update({ ...again, data: { 'ca.crt': 'tampered', extra: 'x' }, metadata: { ...again.metadata, annotations: {} } });
  const restored = await tb.until(async () => {
    const cm = await cms.tryGet('team-a', ROOT_CA_CONFIGMAP);
    return cm && (cm.data as Record<string, string> | undefined)?.['ca.crt'] === CA ? cm : undefined;
  }, 5000, 'kube-root-ca.crt restored');
  assert.deepEqual(restored.data, { 'ca.crt': CA });
  assert.equal(restored.metadata.annotations?.[DESCRIPTION_ANNOTATION], DESCRIPTION);
});

test('terminating namespaces are skipped', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const cms = tb.api.resource('', 'v1', 'configmaps');
  const namespaces = tb.api.resource('', 'v1', 'namespaces');
  await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'going' } });
  await namespaces.delete(undefined, 'going'); // waits on the "kubernetes" finalizer: Terminating
  const c = new RootCACertPublisher({ caCertPem: CA });
  await tb.run(c);
  await tb.until(() => cms.tryGet('default', ROOT_CA_CONFIGMAP), 5000, 'kube-root-ca.crt in default');
  await tb.until(() => c.idle, 5000, 'idle');
  assert.equal(await cms.tryGet('going', ROOT_CA_CONFIGMAP), undefined);
});
