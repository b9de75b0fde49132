import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../store/index.ts';
import { lookupResource } from '../../api/scheme.ts';
import { Registry } from '../../apiserver/registry/registry.ts';
import { silentLogger } from '../../util/log.ts';
import { LeaderElector } from './elector.ts';

test('one of two candidates leads; the other takes over once the lease expires', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-lease-'));
  const store = await SqliteStore.open({ dataDir: dir });
  const registry = new Registry(store);
  try {
    await registry.create(lookupResource('', 'v1', 'namespaces')!, undefined, { metadata: { name: 'kube-system' } });
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date(clock);
    const log: string[] = [];
    const make = (id: string) => new LeaderElector(registry, silentLogger, {
      name: 'ctrl', identity: id, leaseDurationSeconds: 15, now,
      onStartedLeading: () => log.push(`${id} leads`), onStoppedLeading: () => log.push(`${id} stops`),
    });
    const a = make('a');
    const b = make('b');
    assert.equal(await a.tryOnce(), true);
    assert.equal(await b.tryOnce(), false);
    clock += 10_000;
    assert.equal(await a.tryOnce(), true, 'renewal');
    clock += 10_000;
    assert.equal(await b.tryOnce(), false, 'renewed 10 s ago: still held');
    clock += 6_000;
    assert.equal(await b.tryOnce(), true, 'expired: taken over');
    assert.equal(await a.tryOnce(), false);
    assert.deepEqual(log, ['a leads', 'b leads', 'a stops']);
    const lease = await registry.get(lookupResource('coordination.k8s.io', 'v1', 'leases')!, 'kube-system', 'ctrl');
    assert.equal((lease.spec as { leaseTransitions: number }).leaseTransitions, 1);
  } finally {
    registry.watchCache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
