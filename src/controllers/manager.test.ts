// The controller manager's life cycle against a real registry on SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../store/index.ts';
import { Registry } from '../apiserver/registry/registry.ts';
import { InProcessClient } from '../client/inprocess.ts';
import type { Authorizer } from '../apiserver/authz/authorizer.ts';
import { silentLogger } from '../util/log.ts';
import { ensureDefaultNamespaces } from './namespace/defaults.ts';
import { ControllerManager } from './manager.ts';
import type { Controller } from './types.ts';

test('a stop that comes while the controllers\' ServiceAccounts are being made leaves no controller running', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-manager-'));
  const store = await SqliteStore.open({ dataDir: dir });
  const registry = new Registry(store);
  await ensureDefaultNamespaces(new InProcessClient(registry));
  // The first ServiceAccount create waits until the test lets it go.
  let reached!: () => void;
  const atAccounts = new Promise<void>((r) => { reached = r; });
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const slow = new Proxy(registry, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (prop !== 'create') return typeof v === 'function' ? v.bind(target) : v;
      return async (...args: Parameters<Registry['create']>) => {
        if (args[0].resource === 'serviceaccounts') { reached(); await gate; }
        return target.create(...args);
      };
    },
  });
  const authz: Authorizer = { authorize: () => ({ allowed: true, reason: '' }) };
  let started = 0;
  const probe: Controller = { name: 'probe', start: () => { started++; }, stop: () => {} };
  const manager = new ControllerManager({
    registry: slow, log: silentLogger, identity: 'test-server', authorization: { authz },
    config: { clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24, serviceCidr: '10.43.0.0/16' },
    controllers: () => [probe],
  });
  try {
    await manager.start();
    await atAccounts;
    manager.stop();
    release();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(started, 0, 'no controller started after the stop');
    assert.equal(manager.leading, false);
  } finally {
    manager.stop();
    registry.watchCache.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
