import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { ApiError } from '../errors.ts';
import { admitPodServiceAccount, apiAccessVolume } from './admission.ts';

const sa = (name: string, extra: Record<string, unknown> = {}): KObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'ns', uid: 'u' }, ...extra });
const source = (...accounts: KObject[]) => ({ get: async (_ns: string, name: string) => accounts.find((a) => a.metadata.name === name) });
const pod = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
const opts = { randomSuffix: () => 'abcde', retryDelayMs: () => 1 };
const MOUNT = { name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };

test('defaults to the default account and mounts kube-api-access into every container', async () => {
  const p = pod({ initContainers: [{ name: 'i' }], containers: [{ name: 'a', volumeMounts: [{ name: 'x', mountPath: '/x' }] }, { name: 'b' }], volumes: [{ name: 'x', emptyDir: {} }] });
  await admitPodServiceAccount(p, 'ns', source(sa('default')), opts);
  const spec = p.spec as any;
  assert.equal(spec.serviceAccountName, 'default');
  assert.deepEqual(spec.initContainers[0].volumeMounts, [MOUNT]);
  assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'x', mountPath: '/x' }, MOUNT]);
  assert.deepEqual(spec.containers[1].volumeMounts, [MOUNT]);
  assert.deepEqual(spec.volumes, [{ name: 'x', emptyDir: {} }, apiAccessVolume('kube-api-access-abcde')]);
  assert.deepEqual(apiAccessVolume('v').projected, {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
});

test('automountServiceAccountToken false on the pod or the account; the pod wins', async () => {
  const off = pod({ automountServiceAccountToken: false, containers: [{ name: 'a' }] });
  await admitPodServiceAccount(off, 'ns', source(sa('default')), opts);
  assert.equal((off.spec as any).volumes, undefined);
  assert.equal((off.spec as any).containers[0].volumeMounts, undefined);

  const byAccount = pod({ serviceAccountName: 'quiet', containers: [{ name: 'a' }] });
  await admitPodServiceAccount(byAccount, 'ns', source(sa('quiet', { automountServiceAccountToken: false })), opts);
  assert.equal((byAccount.spec as any).volumes, undefined);

  const podWins = pod({ serviceAccountName: 'quiet', automountServiceAccountToken: true, containers: [{ name: 'a' }] });
  await admitPodServiceAccount(podWins, 'ns', source(sa('quiet', { automountServiceAccountToken: false })), opts);
  assert.equal((podWins.spec as any).volumes.length, 1);
});

test('an existing mount at the path or kube-api-access volume is respected; pull secrets are copied', async () => {
  const p = pod({
    containers: [{ name: 'a', volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }, { name: 'b' }],
    volumes: [{ name: 'kube-api-access-zzzzz', emptyDir: {} }],
  });
  await admitPodServiceAccount(p, 'ns', source(sa('default', { imagePullSecrets: [{ name: 'regcred' }] })), opts);
  const spec = p.spec as any;
  assert.equal(spec.containers[0].volumeMounts.length, 1);
  assert.deepEqual(spec.containers[1].volumeMounts, [{ ...MOUNT, name: 'kube-api-access-zzzzz' }]);
  assert.equal(spec.volumes.length, 1);
  assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }]);
});

test('a missing account is refused (403), after retries for default', async () => {
  let asked = 0;
  const counting = { get: async () => { asked++; return undefined; } };
  await assert.rejects(admitPodServiceAccount(pod({ containers: [] }), 'ns', counting, opts), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 403);
    assert.equal(err.message, 'pods "p" is forbidden: error looking up service account ns/default: serviceaccount "default" not found');
    return true;
  });
  assert.equal(asked, 10);
  asked = 0;
  await assert.rejects(admitPodServiceAccount(pod({ serviceAccountName: 'x', containers: [] }), 'ns', counting, opts), /serviceaccount "x" not found/);
  assert.equal(asked, 1);
  // default appearing meanwhile (the serviceaccount controller's race) is fine.
  let calls = 0;
  const late = { get: async () => (++calls >= 3 ? sa('default') : undefined) };
  await admitPodServiceAccount(pod({ containers: [{ name: 'a' }] }), 'ns', late, opts);
});
