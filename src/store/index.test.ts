import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverFor, openStore, registerStore, SqliteStore, UnknownDatastoreError } from './index.ts';
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

test('an http(s) endpoint asks for etcd, which is not implemented yet', async () => {
  assert.equal(driverFor('https://127.0.0.1:2379'), 'etcd');
  await assert.rejects(openStore({ dataDir: '/nonexistent', endpoint: 'http://127.0.0.1:2379' }),
    (err: Error) => err instanceof UnknownDatastoreError && err.message === 'etcd datastore not implemented yet');
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
  await assert.rejects(openStore({ dataDir: '/d', endpoint: 'https://e:2379' }), /not implemented yet/);
});
