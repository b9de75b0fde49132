import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverFor, openStore, registeredStores, registerStore, SqliteStore, UnknownDatastoreError } from './index.ts';
import { freePort } from './etcd/local-etcd.ts';
import type { Store } from './index.ts';

test('an empty endpoint opens the embedded store under <dataDir>/db/state.db', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-store-'));
  try {
    const store = await openStore({ dataDir });
    assert.ok(store instanceof SqliteStore);
    assert.ok(existsSync(join(dataDir, 'db', 'state.db')));
    await store.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an http(s) endpoint opens etcd; an unreachable one fails with the endpoint in the message', async () => {
  assert.equal(driverFor('https://127.0.0.1:2379'), 'etcd');
  assert.ok(registeredStores().includes('etcd'));
  const port = await freePort(); // nothing listens there
  await assert.rejects(openStore({ dataDir: '/nonexistent', endpoint: `http://127.0.0.1:${port}` }),
    (err: Error) => err.message.startsWith(`cannot reach etcd at http://127.0.0.1:${port}`));
});

test('unknown endpoint schemes are rejected', () => {
  assert.throws(() => driverFor('postgres://db'), UnknownDatastoreError);
  assert.equal(driverFor(''), 'sqlite');
  assert.equal(driverFor(undefined), 'sqlite');
  assert.equal(driverFor('sqlite://'), 'sqlite');
});

test('a registered driver is used for its endpoint', async () => {
  const fake = {} as Store;
  let seen: { dataDir: string; endpoint?: string } | undefined;
  const unregister = registerStore('etcd', async (opts) => { seen = opts; return fake; });
  try {
    assert.equal(await openStore({ dataDir: '/d', endpoint: 'https://e:2379' }), fake);
    assert.deepEqual(seen, { dataDir: '/d', endpoint: 'https://e:2379' });
  } finally {
    unregister();
  }
  assert.ok(registeredStores().includes('etcd'), 'unregister puts the real driver back');
});
