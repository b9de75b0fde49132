import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KObject } from '../../api/object.ts';
import { lookupResource } from '../../api/scheme.ts';
import { SqliteStore } from '../../store/index.ts';
import { ApiError } from '../errors.ts';
import { Registry } from '../registry/registry.ts';
import { registryObjectGetter } from './authenticator.ts';
import { ServiceAccountTokenIssuer } from './token-issuer.ts';
import { createTokenRequest } from './token-request.ts';

const NAMESPACES = lookupResource('', 'v1', 'namespaces')!;
const SAS = lookupResource('', 'v1', 'serviceaccounts')!;
const PODS = lookupResource('', 'v1', 'pods')!;
const SECRETS = lookupResource('', 'v1', 'secrets')!;

async function setup(t: { after(fn: () => unknown): void }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-tokenreq-'));
  const store = await SqliteStore.open({ dataDir: dir });
  const registry = new Registry(store);
  t.after(async () => { registry.watchCache.stop(); await store.close(); rmSync(dir, { recursive: true, force: true }); });
  await registry.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const sa = await registry.create(SAS, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  await registry.create(SAS, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder' } });
  const pod = await registry.create(PODS, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const secret = await registry.create(SECRETS, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } });
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const now = 1_700_000_000;
  const issuer = new ServiceAccountTokenIssuer({ privateKeyPem: key, now: () => now });
  const request = (body: Record<string, unknown>, name = 'default') =>
    createTokenRequest({ registry, issuer, namespace: 'default', name, body: body as KObject });
  return { registry, issuer, request, sa, pod, secret, now };
}

async function rejects(p: Promise<unknown>, code: number, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

test('defaults: the API audience, one hour, no binding', async (t) => {
  const { request, issuer, registry, now } = await setup(t);
  const tr = await request({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { creationTimestamp: null }, spec: { audiences: null, boundObjectRef: null }, status: { token: '' } });
  assert.equal(tr.kind, 'TokenRequest');
  assert.deepEqual(tr.metadata, { name: 'default', namespace: 'default', creationTimestamp: new Date(now * 1000).toISOString().replace('.000', '') });
  assert.deepEqual(tr.spec, { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600, boundObjectRef: null });
  const status = tr.status as { token: string; expirationTimestamp: string };
  assert.equal(status.expirationTimestamp, new Date((now + 3600) * 1000).toISOString().replace('.000', ''));
  const r = await issuer.validate(status.token, registryObjectGetter(registry));
  assert.ok(r.ok);
  assert.equal(r.user.name, 'system:serviceaccount:default:default');
});

test('validation: lifetime bounds (422), names (422), bad binding (400), missing objects (404), uid mismatch (409)', async (t) => {
  const { request, pod } = await setup(t);
  await rejects(request({ spec: { expirationSeconds: 599 } }), 422,
    /^TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes$/);
  await rejects(request({ spec: { expirationSeconds: 2 ** 32 + 1 } }), 422, /may not specify a duration larger than 2\^32 seconds/);
  await rejects(request({ spec: { expirationSeconds: 'soon' } }), 400, /cannot unmarshal string/);
  await rejects(request({ metadata: { name: 'other' } }), 422, /metadata.name: Invalid value: "other": must match the service account name if specified/);
  await rejects(request({ kind: 'Pod' }), 400, /expected a TokenRequest/);
  await rejects(request({}, 'nobody'), 404, /^serviceaccounts "nobody" not found$/);
  await rejects(request({ spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'gone' } } }), 404, /pods "gone" not found/);
  await rejects(request({ spec: { boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } } }), 400, /cannot bind token to object of type \/v1, Kind=ConfigMap/);
  await rejects(request({ spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web' } } }, 'builder'), 400,
    /cannot bind token for serviceaccount "builder" to pod running with different serviceaccount name/);
  await rejects(request({ spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'nope' } } }), 409,
    /the UID in the bound object reference \(nope\) does not match the UID in record/);
  // The right uid is fine.
  const tr = await request({ spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: pod.metadata.uid } } });
  assert.ok((tr.status as { token: string }).token);
});

test('bound tokens: pod and secret claims; a 3607 s pod token is extended with warnafter', async (t) => {
  const { request, secret, pod, now } = await setup(t);
  const claimsOf = (tr: KObject) => JSON.parse(Buffer.from((tr.status as { token: string }).token.split('.')[1]!, 'base64url').toString());

  const projected = await request({ spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web' } } });
  const c = claimsOf(projected);
  assert.deepEqual(c['kubernetes.io'].pod, { name: 'web', uid: pod.metadata.uid });
  assert.equal(c['kubernetes.io'].warnafter, now + 3607);
  assert.equal(c.exp, now + 365 * 24 * 3600);
  // The answer still says 3607 s: that is when the kubelet refreshes.
  assert.equal((projected.status as { expirationTimestamp: string }).expirationTimestamp, new Date((now + 3607) * 1000).toISOString().replace('.000', ''));

  const other = claimsOf(await request({ spec: { audiences: ['vault'], expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web' } } }));
  assert.equal(other.exp, now + 3607);
  assert.equal(other['kubernetes.io'].warnafter, undefined);

  const bySecret = claimsOf(await request({ spec: { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 's' } } }));
  assert.deepEqual(bySecret['kubernetes.io'].secret, { name: 's', uid: secret.metadata.uid });
});
