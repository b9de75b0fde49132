// A controller test bed: a real registry on a temporary SQLite store, in-process API,
// shared informers, a recorder that keeps events in memory. No HTTP server needed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../store/index.ts';
import { Registry } from '../apiserver/registry/registry.ts';
import { InProcessClient } from '../client/inprocess.ts';
import { InProcessApi } from '../client/inprocess-resource.ts';
import { SharedInformerFactory } from '../client/informer-factory.ts';
import { ensureDefaultNamespaces } from './namespace/defaults.ts';
import { silentLogger } from '../util/log.ts';
import type { KObject } from '../api/object.ts';
import type { EventRecorder, EventType } from './events.ts';
import type { Controller, ControllerContext } from './types.ts';

export interface RecordedEvent { object: string; type: EventType; reason: string; message: string }

export interface TestBed {
  registry: Registry;
  client: InProcessClient;
  api: InProcessApi;
  informers: SharedInformerFactory;
  ctx: ControllerContext;
  events: RecordedEvent[];
  /** Starts the controllers, then the informers, and waits for the informers to sync. */
  run(...controllers: Controller[]): Promise<void>;
  /** Polls until `fn` returns truthy (controllers work asynchronously). */
  until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  close(): Promise<void>;
}

export async function testBed(opts: { now?: () => number } = {}): Promise<TestBed> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-ctrl-'));
  const store = await SqliteStore.open({ dataDir: dir });
  const registry = new Registry(store);
  const client = new InProcessClient(registry);
  await ensureDefaultNamespaces(client);
  const api = new InProcessApi(registry, 'test-controller');
  const informers = new SharedInformerFactory(api, { log: silentLogger });
  const events: RecordedEvent[] = [];
  const recorder = (): EventRecorder => ({
    event: (obj: KObject, type: EventType, reason: string, message: string) => {
      events.push({ object: `${obj.kind}/${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`, type, reason, message });
    },
  });
  const ctx: ControllerContext = {
    api, informers, recorder, log: silentLogger, now: opts.now ?? Date.now,
    config: { clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24, serviceCidr: '10.43.0.0/16' },
  };
  const running: Controller[] = [];
  return {
    registry, client, api, informers, ctx, events,
    async run(...controllers) {
      for (const c of controllers) { await c.start(ctx); running.push(c); }
      informers.start();
      await informers.waitForSync();
    },
    async until(fn, timeoutMs = 5000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v) return v as never;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const c of running) c.stop();
      informers.stop();
      registry.watchCache.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
