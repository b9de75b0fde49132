// etcd-only behaviour; the shared contract runs in ../contract.test.ts. Needs the `etcd`
// binary (Debian: etcd-server); skipped with the reason otherwise.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { EtcdStore, COMPACT_KEY } from './etcd-store.ts';
import { etcdBinary, startEtcd } from './local-etcd.ts';
import type { WatchEvent } from '../types.ts';
import type { CompactorTimers } from '../sqlite/compactor.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (apt-get install etcd-server)';

async function until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('watches resume from the last seen revision after etcd restarts', { skip, timeout: 90_000 }, async (t) => {
  let etcd = await startEtcd();
  const dataDir = etcd.dataDir;
  const port = Number(new URL(etcd.endpoint).port);
  t.after(async () => { await etcd.stop(); rmSync(dataDir, { recursive: true, force: true }); });
  const store = await EtcdStore.open({ endpoint: etcd.endpoint });
  t.after(() => store.close());
  const live: WatchEvent[] = [];
  const errors: Error[] = [];
  store.watch('/r/', await store.currentRevision(), { onEvent: (e) => { live.push(e); }, onError: (e) => { errors.push(e); } });
  await store.create('/r/before', '1');
  await until(() => live.length === 1, 'first event');

  await etcd.kill(true); // SIGKILL: the watch stream breaks
  etcd = await startEtcd({ dataDir, clientPort: port });
  // Writes from another client while ours may still be reconnecting.
  const other = await EtcdStore.open({ endpoint: etcd.endpoint });
  const a = await other.create('/r/a', 'x');
  await other.update('/r/a', 'y', a.modRevision);
  await other.create('/r/b', 'z');
  await other.close();
  await until(() => live.length === 4, 'events written while disconnected');
  assert.deepEqual(live.map((e) => `${e.type} ${e.kv.key} ${e.kv.value}`), ['create /r/before 1', 'create /r/a x', 'update /r/a y', 'create /r/b z']);
  assert.deepEqual(errors, []);
  const revs = live.map((e) => e.kv.modRevision);
  assert.deepEqual(revs, [...revs].sort((x, y) => x - y));
});

test('a watch that starts a little behind replays recent events and then reports progress from writes elsewhere', { skip, timeout: 60_000 }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const store = await EtcdStore.open({ endpoint: etcd.endpoint });
  t.after(() => store.close());
  // A list answered at `from`, then writes landed before the watch call (as under load).
  const from = (await store.create('/pods/a', '1')).modRevision;
  const b = await store.create('/pods/b', '2');
  const other = await store.create('/configmaps/x', '3');
  const seen: WatchEvent[] = [];
  const progress: number[] = [];
  await until(() => store.watcherCount === 0, 'nothing else watching');
  await new Promise((r) => setTimeout(r, 200)); // let the keyspace watch pass those writes
  store.watch('/pods/', from, { onEvent: (e) => { seen.push(e); }, onProgress: (rev) => { progress.push(rev); } });
  await until(() => seen.length === 1, 'the missed pod event');
  assert.deepEqual(seen.map((e) => [e.kv.key, e.kv.modRevision]), [['/pods/b', b.modRevision]]);
  // Writes to another prefix only: the pod watcher learns it is up to date with them
  // (a consistent read of pods must not wait for the next pod write).
  const later = await store.create('/configmaps/y', '4');
  await until(() => progress.some((r) => r >= later.modRevision), 'progress past a write to another prefix', 5_000);
  assert.ok(other.modRevision < later.modRevision);
  assert.equal(seen.length, 1);
});

class ManualTimers implements CompactorTimers {
  fns = new Map<number, () => void>();
  #n = 0;
  setTimeout(fn: () => void): unknown { this.fns.set(++this.#n, fn); return this.#n; }
  clearTimeout(h: unknown): void { this.fns.delete(h as number); }
  fire(): void { const [[id, fn]] = [...this.fns]; this.fns.delete(id!); fn!(); }
}

test('servers sharing etcd: one compaction per round, whoever runs first (compact_rev_key)', { skip, timeout: 60_000 }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const one = await EtcdStore.open({ endpoint: etcd.endpoint });
  const two = await EtcdStore.open({ endpoint: etcd.endpoint });
  t.after(async () => { await one.close(); await two.close(); });
  let kv = await one.create('/c/k', '0');
  for (let i = 1; i <= 30; i++) kv = await one.update('/c/k', String(i), kv.modRevision);

  const compacted: number[] = [];
  const spy = (s: EtcdStore) => {
    const orig = s.compact.bind(s);
    s.compact = async (rev: number) => { compacted.push(rev); await orig(rev); };
  };
  spy(one); spy(two);
  const [t1, t2] = [new ManualTimers(), new ManualTimers()];
  const c1 = one.startCompactor({ keepRevisions: 10, timers: t1 });
  const c2 = two.startCompactor({ keepRevisions: 10, timers: t2 });
  // Round 1: at the same time.
  await Promise.all([c1.runOnce(), c2.runOnce()]);
  assert.equal(compacted.length, 1, `compactions: ${compacted}`);
  let target = kv.modRevision - 10;
  assert.equal(compacted[0], target);
  assert.equal(await one.compactRevision(), target);
  assert.equal((await one.get(COMPACT_KEY))?.value, String(target));
  // Rounds 2 and 3: one after the other, in either order; still one compaction each.
  for (const [first, second] of [[c2, c1], [c1, c2]] as const) {
    for (let i = 0; i < 20; i++) kv = await one.update('/c/k', `r${i}`, kv.modRevision);
    const before: number = compacted.length;
    await first.runOnce();
    kv = await one.update('/c/k', 'between', kv.modRevision); // the second would pick a newer target
    await second.runOnce();
    assert.equal(compacted.length, before + 1, `compactions: ${compacted}`);
  }
  target = compacted.at(-1)!;
  assert.equal(await two.compactRevision(), target);
  assert.equal((await one.get('/c/k'))?.value, 'between');
  assert.equal(t1.fns.size + t2.fns.size, 2);
  c1.stop(); c2.stop();
  assert.equal(t1.fns.size + t2.fns.size, 0);
});

test('an unreachable endpoint fails open with the endpoint named', { skip: false, timeout: 30_000 }, async () => {
  await assert.rejects(EtcdStore.open({ endpoint: 'http://127.0.0.1:1' }), /cannot reach etcd at http:\/\/127\.0\.0\.1:1/);
});

test('TLS files that do not exist are reported', async () => {
  await assert.rejects(EtcdStore.open({ endpoint: 'https://127.0.0.1:1', caFile: '/nonexistent/ca.crt' }), /ENOENT|no such file/);
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCerts(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-etcd-ca');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  }
  const f = (n: string) => join(dir, n);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

test('TLS: --datastore-cafile/-certfile/-keyfile reach an etcd that requires client certificates', { skip, timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-etcd-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = makeCerts(dir);
  const etcd = await startEtcd({ tls });
  t.after(() => etcd.stop());
  assert.match(etcd.endpoint, /^https:/);
  const store = await EtcdStore.open({ endpoint: etcd.endpoint, caFile: tls.ca, certFile: tls.clientCert, keyFile: tls.clientKey });
  t.after(() => store.close());
  const kv = await store.create('/tls/a', 'secret');
  assert.deepEqual(await store.get('/tls/a'), kv);
  // Without a client certificate etcd refuses the connection.
  await assert.rejects(EtcdStore.open({ endpoint: etcd.endpoint, caFile: tls.ca }), /cannot reach etcd/);
});
