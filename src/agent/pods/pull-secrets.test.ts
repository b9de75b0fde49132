import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { credentialsFor, goDuration, imageRepository, keyMatches, kubeletRpcError, normalizeKey, podPullSecrets } from './pull-secrets.ts';
import { CriError } from '../cri/client.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
function dockerConfigJson(name: string, auths: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } } as KObject;
}

describe('pull secrets', () => {
  it('normalizes image names the Docker way', () => {
    assert.equal(imageRepository('busybox'), 'docker.io/library/busybox');
    assert.equal(imageRepository('busybox:1'), 'docker.io/library/busybox');
    assert.equal(imageRepository('team/app:2'), 'docker.io/team/app');
    assert.equal(imageRepository('127.0.0.1:5000/test/busybox:1'), '127.0.0.1:5000/test/busybox');
    assert.equal(imageRepository('localhost/app@sha256:abcd'), 'localhost/app');
    assert.equal(imageRepository('reg.example/app'), 'reg.example/app');
  });

  it('normalizes keys: scheme and /v1/ /v2/ dropped', () => {
    assert.equal(normalizeKey('https://index.docker.io/v1/'), 'index.docker.io');
    assert.equal(normalizeKey('http://127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(normalizeKey('reg.example/team'), 'reg.example/team');
  });

  it('matches hosts part by part with globs, ports exactly, paths by prefix', () => {
    assert.ok(keyMatches('127.0.0.1:5000', '127.0.0.1:5000/test/busybox'));
    assert.ok(!keyMatches('127.0.0.1:5000', '127.0.0.1:5001/test/busybox'));
    assert.ok(!keyMatches('127.0.0.1', '127.0.0.1:5000/test/busybox'));
    assert.ok(keyMatches('*.example.com', 'reg.example.com/a'));
    assert.ok(!keyMatches('*.example.com', 'a.reg.example.com/a'));
    assert.ok(keyMatches('reg.example/team', 'reg.example/team/app'));
    assert.ok(!keyMatches('reg.example/other', 'reg.example/team/app'));
  });

  it('finds credentials: username/password or auth, most specific key first, Docker Hub by index.docker.io', () => {
    const s1 = dockerConfigJson('one', {
      'reg.example': { username: 'host', password: 'p1' },
      'reg.example/team': { auth: b64('team:p2') },
      'https://index.docker.io/v1/': { auth: b64('hub:p3') },
      'broken.example': { auth: b64('no-colon') },
    });
    assert.deepEqual(credentialsFor('reg.example/team/app:1', [s1]).map((c) => c.auth), [{ username: 'team', password: 'p2' }, { username: 'host', password: 'p1' }]);
    assert.deepEqual(credentialsFor('reg.example/x:1', [s1]).map((c) => c.auth.username), ['host']);
    assert.deepEqual(credentialsFor('busybox', [s1]).map((c) => c.auth.username), ['hub']);
    assert.deepEqual(credentialsFor('other.example/x', [s1]), []);
    assert.deepEqual(credentialsFor('broken.example/x', [s1]), []);
  });

  it('reads legacy .dockercfg secrets', () => {
    const legacy = { metadata: { name: 'old' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'q.example': { username: 'u', password: 'p' } })) } } as unknown as KObject;
    assert.deepEqual(credentialsFor('q.example/a', [legacy]).map((c) => c.secret), ['old']);
  });

  it('collects the pod\'s secrets and the missing ones', async () => {
    const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { imagePullSecrets: [{ name: 'a' }, { name: 'b' }] } } as unknown as KObject;
    const r = await podPullSecrets(pod, async (ns, name) => (name === 'a' ? dockerConfigJson('a', {}) : undefined));
    assert.deepEqual(r.secrets.map((s) => s.metadata.name), ['a']);
    assert.deepEqual(r.missing, ['b']);
  });

  it('formats durations and CRI errors like the kubelet (Go)', () => {
    assert.equal(goDuration(512), '512ms');
    assert.equal(goDuration(1234), '1.234s');
    assert.equal(goDuration(2000), '2s');
    assert.equal(goDuration(62_500), '1m2.5s');
    assert.equal(goDuration(0), '0s');
    assert.equal(kubeletRpcError(new CriError('PullImage', 5, 'failed to pull and unpack image "x": not found')), 'rpc error: code = NotFound desc = failed to pull and unpack image "x": not found');
    assert.equal(kubeletRpcError(new CriError('PullImage', 2, 'boom')), 'rpc error: code = Unknown desc = boom');
  });
});
