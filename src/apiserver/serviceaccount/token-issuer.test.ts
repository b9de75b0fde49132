import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KObject } from '../../api/object.ts';
import { ensureServiceAccountKey } from '../pki/service-account-key.ts';
import { signJwt } from './jwt.ts';
import { DEFAULT_ISSUER, ServiceAccountTokenIssuer, type BoundObjectGetter } from './token-issuer.ts';

const ecPem = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const rsaPem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

const obj = (name: string, uid: string, extra: Partial<KObject['metadata']> = {}): KObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name, uid, ...extra } });

function world() {
  const objects = new Map<string, KObject>([
    ['sa/default/default', obj('default', 'sa-uid')],
    ['pod/default/web', obj('web', 'pod-uid')],
    ['node/n1', obj('n1', 'node-uid')],
  ]);
  const getter: BoundObjectGetter = {
    serviceAccount: async (ns, name) => objects.get(`sa/${ns}/${name}`),
    pod: async (ns, name) => objects.get(`pod/${ns}/${name}`),
    secret: async (ns, name) => objects.get(`secret/${ns}/${name}`),
    node: async (name) => objects.get(`node/${name}`),
  };
  return { objects, getter };
}

const spec = (over: Record<string, unknown> = {}) => ({
  namespace: 'default', serviceAccount: { name: 'default', uid: 'sa-uid' },
  audiences: [DEFAULT_ISSUER], expirationSeconds: 3600, ...over,
});

function decode(token: string): { header: any; claims: any } {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), claims: JSON.parse(Buffer.from(p!, 'base64url').toString()) };
}

test('a token carries the claims kube-apiserver writes and authenticates as the service account', async () => {
  let now = 1_700_000_000;
  const issuer = new ServiceAccountTokenIssuer({ privateKeyPem: ecPem(), now: () => now });
  const { getter } = world();
  const { token } = issuer.issue(spec({ pod: { name: 'web', uid: 'pod-uid' }, node: { name: 'n1', uid: 'node-uid' } }));
  const { header, claims } = decode(token);
  assert.deepEqual(header, { alg: 'ES256', kid: issuer.keyId });
  assert.deepEqual(Object.keys(claims), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
  assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  assert.deepEqual(claims.aud, [DEFAULT_ISSUER]);
  assert.equal(claims.exp, now + 3600);
  assert.equal(claims.iat, now);
  assert.equal(claims.nbf, now);
  assert.match(claims.jti, /^[0-9a-f-]{36}$/);
  assert.deepEqual(claims['kubernetes.io'], {
    namespace: 'default', node: { name: 'n1', uid: 'node-uid' }, pod: { name: 'web', uid: 'pod-uid' },
    serviceaccount: { name: 'default', uid: 'sa-uid' },
  });

  now += 100;
  const r = await issuer.validate(token, getter);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.user.name, 'system:serviceaccount:default:default');
  assert.equal(r.user.uid, 'sa-uid');
  assert.deepEqual(r.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  assert.deepEqual(r.user.extra, {
    'authentication.kubernetes.io/pod-name': ['web'], 'authentication.kubernetes.io/pod-uid': ['pod-uid'],
    'authentication.kubernetes.io/node-name': ['n1'], 'authentication.kubernetes.io/node-uid': ['node-uid'],
    'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`],
  });
});

test('forged, foreign, wrong-audience, wrong-issuer, expired and early tokens are rejected', async () => {
  let now = 1_700_000_000;
  const key = ecPem();
  const issuer = new ServiceAccountTokenIssuer({ privateKeyPem: key, now: () => now });
  const { getter } = world();
  const { token } = issuer.issue(spec());
  const reason = async (t: string) => { const r = await issuer.validate(t, getter); return r.ok ? 'ok' : r.reason; };
  assert.equal(await reason(token), 'ok');

  // A changed payload (another account) with the old signature.
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
  claims.sub = 'system:serviceaccount:kube-system:admin';
  assert.equal(await reason(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`), 'invalid signature');
  // A flipped signature byte.
  const sig = Buffer.from(s!, 'base64url'); sig[5] ^= 1;
  assert.equal(await reason(`${h}.${p}.${sig.toString('base64url')}`), 'invalid signature');
  // alg "none".
  assert.equal(await reason(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.x`), 'invalid signature');
  // Signed by another key.
  const other = new ServiceAccountTokenIssuer({ privateKeyPem: ecPem(), now: () => now });
  assert.equal(await reason(other.issue(spec()).token), 'invalid signature');
  // Not a JWT at all.
  assert.equal(await reason('K10abc::server:secret'), 'not a JWT');

  // Our key, but another issuer or audience.
  const privateKey = createPrivateKey(key);
  const base = issuer.issue(spec()).claims;
  assert.match(await reason(signJwt({ ...base, iss: 'https://evil.example' }, privateKey)), /unknown issuer/);
  assert.match(await reason(issuer.issue(spec({ audiences: ['vault'] })).token), /token audiences \["vault"\] is invalid/);
  assert.match(await reason(signJwt({ ...base, sub: 'system:serviceaccount:default:other' }, privateKey)), /sub does not match/);

  // Expired (after the 60 s leeway), and not valid yet.
  now += 3600 + 61;
  assert.equal(await reason(token), 'service account token has expired');
  now = 1_700_000_000 - 120;
  assert.equal(await reason(token), 'service account token is not valid yet');
});

test('a token dies with its service account or bound pod (same name, new uid included)', async () => {
  const now = 1_700_000_000;
  const issuer = new ServiceAccountTokenIssuer({ privateKeyPem: ecPem(), now: () => now });
  const { objects, getter } = world();
  const bound = issuer.issue(spec({ pod: { name: 'web', uid: 'pod-uid' } })).token;
  const reason = async (t: string) => { const r = await issuer.validate(t, getter); return r.ok ? 'ok' : r.reason; };
  assert.equal(await reason(bound), 'ok');

  // Being deleted: fine for a minute (leeway), then invalid.
  objects.set('pod/default/web', obj('web', 'pod-uid', { deletionTimestamp: new Date((now - 30) * 1000).toISOString() }));
  assert.equal(await reason(bound), 'ok');
  objects.set('pod/default/web', obj('web', 'pod-uid', { deletionTimestamp: new Date((now - 61) * 1000).toISOString() }));
  assert.equal(await reason(bound), 'service account token has been invalidated');
  objects.delete('pod/default/web');
  assert.equal(await reason(bound), 'service account token has been invalidated');
  objects.set('pod/default/web', obj('web', 'other-uid'));
  assert.match(await reason(bound), /pod UID \(other-uid\) does not match/);

  const plain = issuer.issue(spec()).token;
  objects.set('sa/default/default', obj('default', 'new-sa-uid'));
  assert.match(await reason(plain), /service account UID \(new-sa-uid\) does not match claim \(sa-uid\)/);
  objects.delete('sa/default/default');
  assert.equal(await reason(plain), 'serviceaccounts "default" not found');
});

test('RS256 keys work too', async () => {
  const issuer = new ServiceAccountTokenIssuer({ privateKeyPem: rsaPem() });
  const { token } = issuer.issue(spec());
  assert.equal(decode(token).header.alg, 'RS256');
  assert.ok((await issuer.validate(token, world().getter)).ok);
});

test('the signing key is generated once (0600) and reused', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-sakey-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await ensureServiceAccountKey(dir);
  assert.match(first, /BEGIN PRIVATE KEY/);
  assert.equal(statSync(path.join(dir, 'service-account.key')).mode & 0o777, 0o600);
  assert.equal(await ensureServiceAccountKey(dir), first);
});
