// Load and bookkeeping for the chaos tests (test/integration/ha-chaos.test.ts): a writer
// that creates ConfigMaps one after another and records every acknowledged write and
// every failure, and a watcher that follows those ConfigMaps the way a reflector does
// (resume from the last resourceVersion seen when the stream ends) and records every
// event. Both talk HTTPS to one or more servers sharing a CA, failing over to the next
// server when one does not answer, so the tests can kill servers under them.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { LineSplitter } from '../../src/client/ndjson.ts';

export interface Target { url: string; agent: https.Agent }

/** One HTTPS agent per server URL, with the admin credentials of `kubeconfig`. */
export function targetsFrom(kubeconfig: string, urls: string[]): Target[] {
  const kc = YAML.parse(readFileSync(kubeconfig, 'utf8'));
  const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
  const ca = b64(kc.clusters[0].cluster['certificate-authority-data']);
  const cert = b64(kc.users[0].user['client-certificate-data']);
  const key = b64(kc.users[0].user['client-key-data']);
  return urls.map((url) => ({ url, agent: new https.Agent({ ca, cert, key, keepAlive: true }) }));
}

export interface Reply { status: number; json: any; text: string; ms: number; url: string }

/** One request to one server; rejects on a connection error or after `timeoutMs` without an answer. */
export function send(target: Target, method: string, path: string, body?: unknown, timeoutMs = 20_000): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(target.url + path, {
      method, agent: target.agent, headers: data ? { 'Content-Type': 'application/json' } : {},
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        let json: any;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode!, json, text, ms: Date.now() - started, url: target.url });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs / 1000}s`)));
    req.end(data);
  });
}

export interface Ack { name: string; rv: number; at: number; url: string }
export interface Failure { name: string; at: number; ms: number; status?: number; reason?: string; message: string; url: string }

/**
 * Creates ConfigMaps `<prefix>-<n>` in `namespace`, one at a time, `pauseMs` apart. A
 * write is acknowledged only by a 201; anything else (a Status, a dropped connection, no
 * answer) is a failure, and the next write goes to the next server.
 */
export class WriteLoad {
  readonly acked: Ack[] = [];
  readonly failures: Failure[] = [];
  #n = 0;
  #next = 0;
  #running = false;
  #done?: Promise<void>;

  constructor(readonly targets: Target[], readonly namespace: string, readonly prefix: string, readonly pauseMs = 20) {}

  start(): this {
    this.#running = true;
    this.#done = this.#loop();
    return this;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }

  /** Acknowledged writes after `t`. */
  ackedSince(t: number): Ack[] { return this.acked.filter((a) => a.at > t); }
  failedSince(t: number): Failure[] { return this.failures.filter((f) => f.at > t); }

  async #loop(): Promise<void> {
    while (this.#running) {
      const name = `${this.prefix}-${++this.#n}`;
      const target = this.targets[this.#next % this.targets.length]!;
      const started = Date.now();
      try {
        const r = await send(target, 'POST', `/api/v1/namespaces/${this.namespace}/configmaps`,
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: String(this.#n) } });
        if (r.status === 201) {
          this.acked.push({ name, rv: Number(r.json.metadata.resourceVersion), at: Date.now(), url: target.url });
        } else {
          this.failures.push({ name, at: Date.now(), ms: r.ms, status: r.status, reason: r.json?.reason, message: r.json?.message ?? r.text.slice(0, 300), url: target.url });
          this.#next++;
        }
      } catch (err) {
        this.failures.push({ name, at: Date.now(), ms: Date.now() - started, message: (err as Error).message, url: target.url });
        this.#next++;
      }
      if (this.failures.length && this.failures.at(-1)!.at >= started) await sleep(200); // back off a little while failing
      else await sleep(this.pauseMs);
    }
  }
}

export interface SeenEvent { type: string; name: string; rv: number }

/**
 * Watches ConfigMaps in `namespace` from `fromRv`, as a reflector would: when the stream
 * ends or breaks it re-opens from the last resourceVersion seen (bookmarks included),
 * on the next server. A 410 Gone (the server could not resume) is recorded in `gone`:
 * events may have been missed, which the tests treat as a failure.
 */
export class WatchRecorder {
  readonly events: SeenEvent[] = [];
  readonly errors: string[] = [];
  gone = 0;
  reconnects = 0;
  lastRv: number;
  #running = false;
  #next = 0;
  #req?: ReturnType<typeof https.get>;
  #done?: Promise<void>;

  constructor(readonly targets: Target[], readonly namespace: string, fromRv: number) {
    this.lastRv = fromRv;
  }

  start(): this {
    this.#running = true;
    this.#done = this.#loop();
    return this;
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#req?.destroy();
    await this.#done;
  }

  /** Drops the current stream, as a network blip would: the watch re-opens from `lastRv`. */
  reconnect(): void {
    this.#req?.destroy();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const target = this.targets[this.#next % this.targets.length]!;
      try {
        await this.#once(target);
      } catch (err) {
        if (this.#running) this.errors.push(`${new Date().toISOString()} ${target.url}: ${(err as Error).message}`);
      }
      if (!this.#running) break;
      this.reconnects++;
      this.#next++;
      await sleep(300);
    }
  }

  #once(target: Target): Promise<void> {
    const path = `/api/v1/namespaces/${this.namespace}/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${this.lastRv}`;
    return new Promise((resolve, reject) => {
      const req = https.get(target.url + path, { agent: target.agent }, (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (d: Buffer) => { text += d; });
          res.on('end', () => reject(new Error(`watch answered ${res.statusCode}: ${text.slice(0, 300)}`)));
          return;
        }
        const lines = new LineSplitter((line) => this.#event(JSON.parse(line)));
        res.setEncoding('utf8');
        res.on('data', (d: string) => lines.push(d));
        res.on('end', () => resolve());
        res.on('close', () => resolve()); // destroyed by stop(), or the server went away
        res.on('error', reject);
      });
      this.#req = req;
      req.on('error', reject);
    });
  }

  #event(ev: { type: string; object: any }): void {
    if (ev.type === 'ERROR') {
      if (ev.object?.code === 410) this.gone++;
      this.errors.push(`ERROR event: ${JSON.stringify(ev.object)}`);
      return;
    }
    const rv = Number(ev.object?.metadata?.resourceVersion);
    if (ev.type !== 'BOOKMARK') this.events.push({ type: ev.type, name: ev.object.metadata.name, rv });
    if (rv > this.lastRv) this.lastRv = rv;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` is true, polling; throws `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * The end-of-test checks every chaos test makes: each acknowledged write is in the final
 * list exactly once, nothing in the list is duplicated, and (with a watch) each
 * acknowledged write's ADDED event was seen exactly once, every event in resourceVersion order.
 */
export function checkWrites(acked: Ack[], listed: Array<{ metadata: { name: string; resourceVersion: string } }>, watch?: WatchRecorder): string[] {
  const problems: string[] = [];
  const count = new Map<string, number>();
  for (const o of listed) count.set(o.metadata.name, (count.get(o.metadata.name) ?? 0) + 1);
  for (const [name, n] of count) if (n > 1) problems.push(`${name} listed ${n} times`);
  for (const a of acked) if (!count.has(a.name)) problems.push(`acknowledged write ${a.name} (rv ${a.rv}) is missing`);
  if (watch) {
    const added = new Map<string, SeenEvent[]>();
    for (const e of watch.events) if (e.type === 'ADDED') added.set(e.name, [...(added.get(e.name) ?? []), e]);
    for (const a of acked) {
      const seen = added.get(a.name) ?? [];
      if (seen.length !== 1) problems.push(`acknowledged write ${a.name} (rv ${a.rv}): ADDED seen ${seen.length} times`);
      else if (seen[0]!.rv !== a.rv) problems.push(`${a.name}: ADDED at rv ${seen[0]!.rv}, acknowledged at ${a.rv}`);
    }
    for (let i = 1; i < watch.events.length; i++) {
      if (watch.events[i]!.rv <= watch.events[i - 1]!.rv) {
        problems.push(`watch out of order: ${JSON.stringify(watch.events[i - 1])} then ${JSON.stringify(watch.events[i])}`);
      }
    }
    if (watch.gone) problems.push(`the watch could not resume ${watch.gone} time(s) (410 Gone): events may be missed`);
  }
  return problems;
}
