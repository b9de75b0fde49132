import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../sqlite/sqlite-store.ts';
import { RevisionConflictError, type WatchEvent } from '../types.ts';
import { ENCRYPTED_PREFIXES, newKey, parseConfig, toFile, type Provider } from './config.ts';
import { EncryptingStore } from './encrypting-store.ts';
import { Transformer } from './transformer.ts';

const cbc: Provider[] = [{ type: 'aescbc', keys: [newKey('k1')] }, { type: 'identity', keys: [] }];
const gcm: Provider[] = [{ type: 'aesgcm', keys: [newKey('g1')] }];

test('AES-CBC and AES-GCM values carry the Kubernetes prefix and come back unchanged', () => {
  for (const providers of [cbc, gcm]) {
    const t = new Transformer(providers);
    const plain = JSON.stringify({ data: { password: 'aHVudGVyMg==' }, note: 'ünïcode' });
    const a = t.encrypt(plain);
    const b = t.encrypt(plain);
    assert.match(a, new RegExp(`^k8s:enc:${providers[0]!.type}:v1:${providers[0]!.keys[0]!.name}:`));
    assert.notEqual(a, b, 'a fresh IV/nonce every time');
    assert.ok(!a.includes('aHVudGVyMg'));
    assert.equal(t.decrypt(a), plain);
  }
});

test('tampered, unknown-key and plain values: what each configuration accepts', () => {
  const t = new Transformer(gcm);
  const v = t.encrypt('secret');
  const tampered = v.slice(0, -4) + (v.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.throws(() => t.decrypt(tampered));
  assert.throws(() => new Transformer(cbc).decrypt(v), /no key g1 for provider aesgcm/);
  assert.throws(() => t.decrypt('{"plain":true}'), /identity provider is not configured/);
  assert.equal(new Transformer(cbc).decrypt('{"plain":true}'), '{"plain":true}');
});

test('the configuration file is Kubernetes EncryptionConfiguration and is checked', () => {
  assert.deepEqual(parseConfig(JSON.stringify(toFile(cbc)), 'f'), cbc);
  assert.throws(() => parseConfig('{"kind":"Nope"}', 'f'), /kind must be EncryptionConfiguration/);
  const badKey = toFile([{ type: 'aescbc', keys: [{ name: 'x', secret: 'c2hvcnQ=' }] }]);
  assert.throws(() => parseConfig(JSON.stringify(badKey), 'f'), /16, 24 or 32 bytes/);
  const kms = { kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers: [{ kms: {} }] }] };
  assert.throws(() => parseConfig(JSON.stringify(kms), 'f'), /provider kms is not supported/);
});

test('the store layer: ciphertext on disk for Secrets only; reads, watches and conflicts see plain values', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-enc-'));
  const raw = await SqliteStore.open({ dataDir: dir });
  try {
    const store = new EncryptingStore(raw, new Transformer(cbc), ENCRYPTED_PREFIXES);
    const events: WatchEvent[] = [];
    const w = store.watch('/registry/', 0, { onEvent: (e) => events.push(e) });
    const created = await store.create('/registry/secrets/default/s', '{"v":1}');
    await store.create('/registry/configmaps/default/c', '{"v":"cm"}');
    assert.equal(created.value, '{"v":1}');
    assert.match((await raw.get('/registry/secrets/default/s'))!.value, /^k8s:enc:aescbc:v1:k1:/);
    assert.equal((await raw.get('/registry/configmaps/default/c'))!.value, '{"v":"cm"}');
    assert.equal((await store.get('/registry/secrets/default/s'))!.value, '{"v":1}');
    assert.deepEqual((await store.list('/registry/secrets/')).items.map((kv) => kv.value), ['{"v":1}']);
    const updated = await store.update('/registry/secrets/default/s', '{"v":2}', created.modRevision);
    await assert.rejects(store.update('/registry/secrets/default/s', '{"v":3}', created.modRevision),
      (err: RevisionConflictError) => err instanceof RevisionConflictError && err.current?.value === '{"v":2}');
    assert.equal((await store.delete('/registry/secrets/default/s', updated.modRevision)).value, '{"v":2}');
    await new Promise((r) => setTimeout(r, 50));
    w.close();
    const secretEvents = events.filter((e) => e.kv.key.startsWith('/registry/secrets/'));
    // A delete carries the last value (decrypted too).
    assert.deepEqual(secretEvents.map((e) => [e.type, e.kv.value, e.prev?.value]), [
      ['create', '{"v":1}', undefined], ['update', '{"v":2}', '{"v":1}'], ['delete', '{"v":2}', '{"v":2}'],
    ]);
  } finally {
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
