// Client-side failover across the API servers of one cluster, as k3s's agent load
// balancer does it: requests go to one current server and stay there while it works; a
// server that refuses connections, fails TLS, answers 503, times out or breaks a stream
// is marked down and the request moves on to the next one. Requests that may have
// reached the server are retried elsewhere only when repeating them is harmless
// (idempotent); any request is retried when it never got a connection. Down servers are
// probed on `/readyz` in the background and come back when they answer 200. The list is
// the configured servers plus those learned from the `kubernetes` EndpointSlice
// (failover-learn.ts); configured ones are never dropped.
import https from 'node:https';
import { createLogger, type Logger } from '../util/log.ts';
import { realTimers, type Timers } from './timers.ts';
import { ClientError } from './types.ts';

export interface ServerPoolOptions {
  /** The configured servers, in order of preference; the first is current at start. */
  servers: string[];
  /** Answers whether a down server is ready again (HttpClient: GET /readyz). */
  probe: (server: string) => Promise<boolean>;
  /** Called when a server is marked down (HttpClient closes its watch streams to it). */
  onDown?: (server: string) => void;
  /** How often down servers are probed. Default 5 s. */
  healthCheckIntervalMs?: number;
  timers?: Timers;
  log?: Logger;
}

interface ServerState {
  down: boolean;
  /** When it was marked down (for ordering the last resort) */
  downAt: number;
}

/** Trailing slashes off, so `https://a:6443/` and `https://a:6443` are one server. */
export function normalizeServer(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** `https://a:6443,https://b:6443` or repeated values → a clean, de-duplicated list. */
export function splitServers(values: string | readonly string[]): string[] {
  const out: string[] = [];
  for (const v of typeof values === 'string' ? [values] : values) {
    for (const s of v.split(',')) {
      const n = normalizeServer(s);
      if (n && !out.includes(n)) out.push(n);
    }
  }
  return out;
}

export class ServerPool {
  readonly #configured: string[];
  #learned: string[] = [];
  readonly #state = new Map<string, ServerState>();
  #current: string;
  readonly #probe: (server: string) => Promise<boolean>;
  readonly #onDown: ((server: string) => void) | undefined;
  readonly #intervalMs: number;
  readonly #timers: Timers;
  readonly #log: Logger;
  #timer: unknown;
  #probing = false;
  #closed = false;

  constructor(opts: ServerPoolOptions) {
    this.#configured = splitServers(opts.servers);
    if (!this.#configured.length) throw new Error('a server pool needs at least one server URL');
    for (const s of this.#configured) this.#state.set(s, { down: false, downAt: 0 });
    this.#current = this.#configured[0]!;
    this.#probe = opts.probe;
    this.#onDown = opts.onDown;
    this.#intervalMs = opts.healthCheckIntervalMs ?? 5_000;
    this.#timers = opts.timers ?? realTimers;
    this.#log = opts.log ?? createLogger({ component: 'failover' });
  }

  /** The server requests go to now. */
  get current(): string {
    return this.#current;
  }

  /** Every server: configured first, then learned ones. */
  get servers(): string[] {
    return [...this.#configured, ...this.#learned.filter((s) => !this.#configured.includes(s))];
  }

  isDown(server: string): boolean {
    return this.#state.get(server)?.down ?? false;
  }

  /**
   * The order to try servers in for one request: the current one, the other live ones
   * (in list order after it), then the down ones, longest down first — when every server
   * is down, each is still tried once rather than failing without a try.
   */
  candidates(): string[] {
    const all = this.servers;
    const start = Math.max(0, all.indexOf(this.#current));
    const rotated = [...all.slice(start), ...all.slice(0, start)];
    const up = rotated.filter((s) => !this.isDown(s));
    const down = rotated.filter((s) => this.isDown(s)).sort((a, b) => this.#state.get(a)!.downAt - this.#state.get(b)!.downAt);
    return [...up, ...down];
  }

  /** A server failed in a way that says it is unusable: mark it down, move off it. */
  reportFailure(server: string, err: unknown): void {
    const st = this.#state.get(server);
    if (!st) return; // dropped from the list meanwhile
    if (!st.down) {
      st.down = true;
      st.downAt = this.#timers.now();
      this.#log.warn('API server marked down', { server, error: err instanceof Error ? err.message : String(err) });
      this.#down(server);
    }
    if (this.#current === server) {
      const next = this.candidates().find((s) => !this.isDown(s));
      if (next) {
        this.#current = next;
        this.#log.warn('switched API server', { from: server, to: next });
      }
    }
    this.#schedule();
  }

  #down(server: string): void {
    try {
      this.#onDown?.(server);
    } catch (err) {
      this.#log.error('onDown failed', { error: String(err) });
    }
  }

  /** A server answered: it is up; it becomes current if the current one is down. */
  reportSuccess(server: string): void {
    const st = this.#state.get(server);
    if (!st) return;
    if (st.down) {
      st.down = false;
      this.#log.warn('API server is back', { server });
    }
    if (this.isDown(this.#current) || !this.#state.has(this.#current)) this.#current = server;
  }

  /**
   * The servers the cluster itself lists (the `kubernetes` EndpointSlice). They are added
   * to the configured ones; learned servers no longer listed are dropped.
   */
  setLearned(urls: readonly string[]): void {
    const next = splitServers(urls);
    const same = next.length === this.#learned.length && next.every((s, i) => s === this.#learned[i]);
    if (same) return;
    for (const s of this.#learned) if (!next.includes(s) && !this.#configured.includes(s)) this.#state.delete(s);
    for (const s of next) if (!this.#state.has(s)) this.#state.set(s, { down: false, downAt: 0 });
    this.#learned = next;
    this.#log.info('API servers', { servers: this.servers });
    if (!this.#state.has(this.#current) || this.isDown(this.#current)) this.#current = this.candidates()[0]!;
  }

  /**
   * Runs `attempt` on the candidates in turn until one succeeds. A failure that is the
   * server's fault marks it down; the next server is tried if the request may be
   * repeated (see classifyFailure). Other failures (a 404, a 409) are the answer.
   */
  async run<T>(attempt: (server: string) => Promise<T>, opts: { idempotent: boolean; path?: string }): Promise<T> {
    let last: unknown;
    for (const server of this.candidates()) {
      try {
        const out = await attempt(server);
        this.reportSuccess(server);
        return out;
      } catch (err) {
        const f = classifyFailure(err, opts.path);
        if (!f.serverFault) {
          this.reportSuccess(server); // it answered: it is alive
          throw err;
        }
        this.reportFailure(server, err);
        if (!(f.notSent || opts.idempotent)) throw err;
        last = err;
      }
    }
    throw last;
  }

  /** Stops the health checks. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Probes every down server once, now (tests; the timer calls it too). */
  async checkNow(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      const down = this.servers.filter((s) => this.isDown(s));
      await Promise.all(down.map(async (s) => {
        let ok = false;
        try { ok = await this.#probe(s); } catch { ok = false; }
        if (ok && this.#state.has(s)) this.reportSuccess(s);
      }));
    } finally {
      this.#probing = false;
    }
  }

  /** One timer while any server is down; none while all are up. */
  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const handle = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      void this.checkNow().finally(() => { if (this.servers.some((s) => this.isDown(s))) this.#schedule(); });
    }, this.#intervalMs);
    (handle as { unref?: () => void })?.unref?.(); // a health check alone keeps no process alive
    this.#timer = handle;
  }
}

/** Node's codes for a connection that failed or broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE',
]);

export interface FailureClass {
  /** The server is unusable (down, unreachable, not ready, not trusted): try another. */
  serverFault: boolean;
  /** The request never reached the server: it may be sent elsewhere whatever it is. */
  notSent: boolean;
}

/** Marks an error as raised before the request had a connection (set by the transport). */
export function markNotSent<E>(err: E): E {
  if (err && typeof err === 'object') Object.assign(err, { notSent: true });
  return err;
}

/** Requests the API server passes on to a kubelet, a pod or a Service: their 503 is not the server's. */
const PASSED_ON = /\/(proxy|log|exec|attach|portforward)(\/|\?|$)/;

/** `path` (of the request) tells a 503 of the server from a 503 it passed on. */
export function classifyFailure(err: unknown, path?: string): FailureClass {
  const e = err as { code?: unknown; notSent?: boolean; timedOut?: boolean; message?: string } | undefined;
  const notSent = e?.notSent === true;
  if (err instanceof ClientError) return { serverFault: err.code === 503 && !(path && PASSED_ON.test(path)), notSent: false };
  if (notSent) return { serverFault: true, notSent };
  if (e?.timedOut) return { serverFault: true, notSent: false };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|VERIFY/.test(code)) {
    return { serverFault: true, notSent: false };
  }
  if (/socket hang up|closed by the server/.test(e?.message ?? '')) return { serverFault: true, notSent: false };
  return { serverFault: false, notSent: false };
}

const PATCH_IDEMPOTENT = new Set(['application/merge-patch+json', 'application/apply-patch+yaml']);

/**
 * Whether sending a request twice leaves the same state as sending it once: GET, HEAD,
 * PUT (with a resourceVersion the repeat is a 409, never a double write), DELETE (a
 * repeat is a 404), and merge/apply patches (RFC 7396 merge patches are idempotent).
 * POST (create, a second object or a 409) and JSON/strategic patches are not.
 */
export function isIdempotent(method: string, contentType?: string): boolean {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || m === 'PUT' || m === 'DELETE') return true;
  return m === 'PATCH' && !!contentType && PATCH_IDEMPOTENT.has(contentType);
}

/** GET /readyz → 200? With its own deadline, on the given agent and headers. */
export function probeReadyz(server: string, agent: https.Agent, headers: Record<string, string>, timeoutMs = 5_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.request(`${server}/readyz`, { method: 'GET', agent, headers: { ...headers, Accept: 'text/plain' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('readyz timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * `fn` on each server in turn until one succeeds (start-up steps that need just one
 * server, such as fetching the CA); the last error when none does.
 */
export async function firstAnswer<T>(servers: readonly string[], fn: (server: string) => Promise<T>): Promise<T> {
  let last: unknown = new Error('no server given');
  for (const s of servers) {
    try {
      return await fn(s);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/**
 * The first server (in list order) whose /readyz answers 200, probing all at once; for
 * one-shot tools (`skiff kubectl`) that hand a single server to something else.
 */
export async function firstReady(servers: readonly string[], agent: https.Agent, headers: Record<string, string>, timeoutMs = 2_000): Promise<string | undefined> {
  const ready = await Promise.all(servers.map((s) => probeReadyz(s, agent, headers, timeoutMs)));
  return servers.find((_, i) => ready[i]);
}
