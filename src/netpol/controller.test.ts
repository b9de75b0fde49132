import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import type { EventHandlers } from '../client/informer.ts';
import { FakeTimers } from '../client/timers.ts';
import { silentLogger } from '../util/log.ts';
import { NetpolController, type Source } from './controller.ts';

class Memory implements Source {
  items: KObject[] = [];
  handlers = new Set<EventHandlers>();
  synced!: () => void;
  #sync = new Promise<void>((r) => { this.synced = r; });
  list() { return this.items; }
  addEventHandler(h: EventHandlers) { this.handlers.add(h); return () => this.handlers.delete(h); }
  waitForSync() { return this.#sync; }
  add(o: KObject) { this.items.push(o); for (const h of this.handlers) h.onAdd?.(o); }
  update(o: KObject, n: KObject) { this.items[this.items.indexOf(o)] = n; for (const h of this.handlers) h.onUpdate?.(o, n); }
}

const pod = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'a', name, labels, ...extra }, spec: { nodeName: 'n' }, status: { phase: 'Running', podIP: '10.0.0.5' } });
const flush = () => new Promise((r) => setImmediate(r));

function setup(apply: (s: string) => Promise<void>) {
  const timers = new FakeTimers();
  const [policies, pods, namespaces] = [new Memory(), new Memory(), new Memory()];
  const c = new NetpolController({ policies, pods, namespaces, nodeName: 'n', nodeIPs: ['10.0.0.1'], table: 't', apply, log: silentLogger, debounceMs: 50, timers });
  c.start();
  return { c, timers, policies, pods, namespaces, syncAll: async () => { for (const s of [policies, pods, namespaces]) s.synced(); await flush(); } };
}

test('nothing is written before every informer has synced; then one full write', async () => {
  const scripts: string[] = [];
  const { timers, pods, syncAll, c } = setup(async (s) => { scripts.push(s); });
  pods.add(pod('a', {}));
  timers.advance(1000);
  await flush();
  assert.equal(scripts.length, 0);
  await syncAll();
  timers.advance(0);
  await flush();
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]!, /^table inet t \{\}\ndelete table inet t\n/);
  await c.stop();
});

test('events within the debounce window make one transaction; irrelevant updates make none', async () => {
  const scripts: string[] = [];
  const { timers, policies, pods, syncAll, c } = setup(async (s) => { scripts.push(s); });
  const p = pod('a', { app: 'x' });
  pods.add(p);
  await syncAll(); timers.advance(0); await flush();
  policies.add({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'a', name: 'deny' }, spec: { podSelector: {} } });
  const p2 = pod('a', { app: 'y' });
  pods.update(p, p2);
  timers.advance(49); await flush();
  assert.equal(scripts.length, 1);
  timers.advance(1); await flush();
  assert.equal(scripts.length, 2);
  assert.match(scripts[1]!, /add element inet t isolated \{ 10\.0\.0\.5 \}/);
  pods.update(p2, pod('a', { app: 'y' }, { annotations: { touched: 'yes' }, resourceVersion: '9' }));
  timers.advance(100); await flush();
  assert.equal(scripts.length, 2, 'an annotation does not matter');
  await c.stop();
});

test('a failed apply is retried with backoff as a full rewrite', async () => {
  const scripts: string[] = [];
  let fail = true;
  const { timers, syncAll, c } = setup(async (s) => { scripts.push(s); if (fail) throw new Error('nft: boom'); });
  await syncAll(); timers.advance(0); await flush();
  assert.equal(scripts.length, 1);
  assert.match(String(c.lastError), /boom/);
  fail = false;
  timers.advance(1000); await flush();
  assert.equal(scripts.length, 2);
  assert.match(scripts[1]!, /^table inet t \{\}\ndelete table inet t\n/);
  assert.equal(c.lastError, undefined);
  await c.stop();
});
