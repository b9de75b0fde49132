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

test('a leader that cannot renew steps down after the renew deadline, before its Lease expires', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-lease-'));
  const store = await SqliteStore.open({ dataDir: dir });
  const registry = new Registry(store);
  let elector: LeaderElector | undefined;
  try {
    await registry.create(lookupResource('', 'v1', 'namespaces')!, undefined, { metadata: { name: 'kube-system' } });
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const log: string[] = [];
    elector = new LeaderElector(registry, silentLogger, {
      name: 'ctrl', identity: 'a', leaseDurationSeconds: 10, retryPeriodMs: 20, now: () => new Date(clock),
      onStartedLeading: () => log.push('leads'), onStoppedLeading: () => log.push('stops'),
    });
    elector.start();
    const until = async (what: () => boolean) => { for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 10)); };
    await until(() => elector!.leading);
    assert.equal(elector.leading, true);
    // The datastore stops answering: every attempt hangs from now on.
    (registry as { tryGet: unknown }).tryGet = () => new Promise(() => {});
    clock += 5_000;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(elector.leading, true, '5 s without renewal: within the deadline');
    clock += 2_000;
    await until(() => !elector!.leading);
    assert.equal(elector.leading, false, '7 s without renewal (deadline 6.67 s of a 10 s Lease): stepped down');
    assert.deepEqual(log, ['leads', 'stops']);
  } finally {
    elector?.stop();
    registry.watchCache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
