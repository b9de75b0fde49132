// The HTTP client, for components in other processes (node agents, simulated nodes):
// Kubernetes REST over HTTPS with JSON bodies, a bearer token or a client certificate,
// watch as a newline-delimited JSON stream, and every Status failure as a ClientError.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KObject } from '../api/object.ts';
import { lookupResource } from '../api/scheme.ts';
import type { Status } from '../apiserver/errors.ts';
import type { Logger } from '../util/log.ts';
import { SKIFF_VERSION } from '../version.ts';
import { classifyFailure, isIdempotent, markNotSent, probeReadyz, ServerPool } from './failover.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import { LineSplitter } from './ndjson.ts';
import { ClientError } from './types.ts';
import type {
  ApiClient, DeleteOptions, DeleteResult, ListOptions, ListResult, PatchOptions, PatchType,
  ResourceInterface, WatchEvent, WatchHandle, WatchOptions, WriteOptions,
} from './types.ts';

export interface HttpClientOptions {
  /** One URL, or several servers of one cluster (comma lists too): failover.ts. */
  server: string | string[];
  /** How often servers marked down are probed on /readyz. Default 5 s. */
  healthCheckIntervalMs?: number;
  /** Where failover (server down, switched, back) is logged. */
  log?: Logger;
  /** PEM of the CA that signed the server's certificate; the system CAs when absent. */
  ca?: string | Buffer;
  /** Bearer token (the join token from `<data-dir>/token`). */
  token?: string;
  /** Client certificate and key (PEM), as in the admin kubeconfig. */
  cert?: string | Buffer;
  key?: string | Buffer;
  insecureSkipTLSVerify?: boolean;
  /** Sockets for ordinary requests; more requests wait for a free one. Default 16. */
  maxSockets?: number;
  /** Sockets for watch streams, each held for the stream's life. Default 256. */
  maxWatchSockets?: number;
  /** Deadline for ordinary requests (not watches). Default 30 s. */
  requestTimeoutMs?: number;
  /** Sent as fieldManager on writes unless the call names one; required for apply. */
  fieldManager?: string;
  userAgent?: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** How long the server may stay silent before the request fails over (default: the client's requestTimeoutMs). */
  timeoutMs?: number;
}

/** Options of one resource's interface. */
export interface ResourceOptions {
  /**
   * Silence after which its requests give up on a server and fail over (default: the
   * client's, 30 s). Heartbeats use 10 s, as the kubelet's heartbeat client does, so a
   * partitioned server costs a node one renewal, not its Lease.
   */
  requestTimeoutMs?: number;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/**
 * How long an idle keep-alive socket is kept: well under the API server's 65 s. A server
 * closes its idle sockets when its timer fires, and after a stall (a long GC pause) its
 * timers run before it reads what arrived meanwhile: a request the client wrote on a socket
 * whose idle time ran out during the stall is reset unanswered (ECONNRESET), a write lost
 * and the server marked down. The side that closes first never races the other.
 */
const IDLE_SOCKET_MS = 30_000;

export class HttpClient implements ApiClient {
  readonly fieldManager: string;
  readonly #pool: ServerPool;
  /** Open watch streams by server, cut when it is marked down (a partitioned server never closes them). */
  readonly #streams = new Map<string, Set<(err: Error) => void>>();
  readonly #agent: https.Agent;
  readonly #watchAgent: https.Agent;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(opts: HttpClientOptions) {
    this.fieldManager = opts.fieldManager ?? 'skiff';
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
    const tls = { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: !opts.insecureSkipTLSVerify };
    // Watches get their own pool so long-lived streams can never starve short requests.
    // Idle sockets are closed by this side first (IDLE_SOCKET_MS, or a second before the
    // server's Keep-Alive timeout when that is shorter): see IDLE_SOCKET_MS.
    this.#agent = new https.Agent({ ...tls, keepAlive: true, timeout: IDLE_SOCKET_MS, maxSockets: opts.maxSockets ?? 16, maxFreeSockets: opts.maxSockets ?? 16 });
    this.#watchAgent = new https.Agent({ ...tls, keepAlive: true, maxSockets: opts.maxWatchSockets ?? 256, maxFreeSockets: 4 });
    this.#headers = {
      Accept: 'application/json',
      'User-Agent': opts.userAgent ?? `skiff/${SKIFF_VERSION}`,
      ...(opts.token ? { Authorization: `Bearer ${opts.token.trim()}` } : {}),
    };
    if (!(Array.isArray(opts.server) ? opts.server : [opts.server]).some((s) => s?.trim())) throw new Error('HttpClient needs a server URL');
    this.#pool = new ServerPool({
      servers: Array.isArray(opts.server) ? opts.server : [opts.server],
      probe: (server) => probeReadyz(server, this.#agent, this.#headers),
      healthCheckIntervalMs: opts.healthCheckIntervalMs,
      log: opts.log,
      onDown: (server) => { for (const cut of [...this.#streams.get(server) ?? []]) cut(new Error(`watch closed: ${server} was marked down`)); },
    });
  }

  /** A client for the current context of a kubeconfig file. */
  static fromKubeconfig(file: string, opts: Omit<HttpClientOptions, 'server' | 'ca' | 'cert' | 'key' | 'token'> = {}): HttpClient {
    const kc = loadKubeconfig(file);
    return new HttpClient({ ...opts, ...kc, server: kc.servers });
  }

  /** The server requests go to now. */
  get server(): string {
    return this.#pool.current;
  }

  /** Every server this client may use (configured, then learned). */
  get servers(): string[] {
    return this.#pool.servers;
  }

  /** The failover state: which servers are down, learned servers (failover-learn.ts). */
  get failover(): ServerPool {
    return this.#pool;
  }

  resource(group: string, version: string, resource: string, opts: ResourceOptions = {}): HttpResource {
    return new HttpResource(this, group, version, resource, opts);
  }

  /**
   * One JSON request; a non-2xx answer rejects with ClientError built from its Status.
   * 429 TooManyRequests is retried after the server's Retry-After, as client-go does (up to 10 times).
   */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: T }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#pool.run((server) => this.#requestOnce<T>(server, method, path, opts),
          { idempotent: isIdempotent(method, opts.body === undefined ? undefined : opts.contentType ?? 'application/json'), path });
      } catch (err) {
        const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
        if ((err as ClientError).code !== 429 || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, Math.min(Math.max(retryAfter ?? 1, 0), 10) * 1000));
      }
    }
  }

  #requestOnce<T>(server: string, method: string, path: string, opts: RequestOptions): Promise<{ status: number; body: T }> {
    const url = server + path + queryString(opts.query);
    const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    return new Promise((resolve, reject) => {
      const req = https.request(url, {
        method, agent: this.#agent,
        // An explicit length: Node sends DELETE bodies unchunked, so without one the body is lost.
        headers: { ...this.#headers, ...(payload !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}) },
      }, (res) => {
        readText(res).then((text) => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const err = errorFrom(status, text);
            const retry = Number(res.headers['retry-after']);
            if (Number.isFinite(retry)) Object.assign(err, { retryAfterSeconds: retry });
            return reject(err);
          }
          try {
            resolve({ status, body: (text ? JSON.parse(text) : undefined) as T });
          } catch {
            reject(new ClientError(status, 'InternalError', `malformed JSON in the answer to ${method} ${path}`));
          }
        }, reject);
      });
      const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`${method} ${path}: no answer from ${server} in ${timeoutMs} ms`), { timedOut: true })));
      // Failover resends any request that failed before it had a connection (see failover.ts).
      let connected = false;
      req.on('socket', (s) => { if (req.reusedSocket) connected = true; else s.once('secureConnect', () => { connected = true; }); });
      req.on('error', (err) => reject(connected ? err : markNotSent(err)));
      req.end(payload);
    });
  }

  /**
   * Opens a watch stream. Resolves when the server has answered 200; events are parsed
   * line by line as chunks arrive (a chunk may end mid-line).
   */
  watchStream(path: string, query: RequestOptions['query'], onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): Promise<WatchHandle> {
    return this.#pool.run((server) => this.#watchOn(server, path, query, onEvent, onEnd), { idempotent: true });
  }

  #watchOn(server: string, path: string, query: RequestOptions['query'], onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): Promise<WatchHandle> {
    const url = server + path + queryString({ ...query, watch: true });
    return new Promise((resolve, reject) => {
      let opened = false;
      let done = false;
      const req = https.request(url, { method: 'GET', agent: this.#watchAgent, headers: this.#headers });
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        this.#streams.get(server)?.delete(finish);
        req.destroy();
        // A stream the server broke: the next watch (the reflector resumes) goes elsewhere.
        if (err && classifyFailure(err).serverFault) this.#pool.reportFailure(server, err);
        onEnd(err);
      };
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          readText(res).then((text) => reject(errorFrom(res.statusCode ?? 0, text)), reject);
          return;
        }
        opened = true;
        if (!this.#streams.has(server)) this.#streams.set(server, new Set());
        this.#streams.get(server)!.add(finish);
        res.setEncoding('utf8'); // a StringDecoder: multi-byte characters split across chunks stay whole
        const lines = new LineSplitter((line) => {
          if (done) return;
          let ev: WatchEvent;
          try {
            ev = JSON.parse(line) as WatchEvent;
            if (typeof ev?.type !== 'string' || typeof ev.object !== 'object' || ev.object === null) throw new Error('not an event');
          } catch {
            return finish(new Error(`malformed watch event: ${line.slice(0, 200)}`));
          }
          try {
            onEvent(ev);
          } catch (err) {
            finish(err as Error);
          }
        });
        res.on('data', (chunk: string) => lines.push(chunk));
        res.on('end', () => { lines.end(); finish(); });
        res.on('error', (err) => finish(err));
        res.on('close', () => finish(res.complete ? undefined : new Error('watch stream closed by the server')));
        resolve({ close: () => { done = true; this.#streams.get(server)?.delete(finish); req.destroy(); } });
      });
      req.on('error', (err) => (opened ? finish(err) : reject(err)));
      req.end();
    });
  }

  /** Closes idle sockets and open streams; the client is unusable afterwards. */
  close(): void {
    this.#pool.close();
    this.#agent.destroy();
    this.#watchAgent.destroy();
  }
}

export class HttpResource implements ResourceInterface {
  readonly #client: HttpClient;
  readonly #base: string;
  readonly #resource: string;
  readonly #namespaced: boolean;
  readonly #timeoutMs: number | undefined;

  constructor(client: HttpClient, group: string, version: string, resource: string, opts: ResourceOptions = {}) {
    this.#client = client;
    this.#timeoutMs = opts.requestTimeoutMs;
    this.#base = group ? `/apis/${group}/${version}` : `/api/${version}`;
    this.#resource = resource;
    // Resources outside the scheme (none yet) are taken as namespaced when given a namespace.
    this.#namespaced = lookupResource(group, version, resource)?.namespaced ?? true;
  }

  #request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; body: T }> {
    return this.#client.request<T>(method, path, this.#timeoutMs === undefined ? opts : { timeoutMs: this.#timeoutMs, ...opts });
  }

  path(ns: string | undefined, name?: string, subresource?: string): string {
    let p = this.#base;
    if (this.#namespaced && ns) p += `/namespaces/${encodeURIComponent(ns)}`;
    p += `/${this.#resource}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  async get(ns: string | undefined, name: string): Promise<KObject> {
    return (await this.#request<KObject>('GET', this.path(ns, name))).body;
  }

  async tryGet(ns: string | undefined, name: string): Promise<KObject | undefined> {
    try {
      return await this.get(ns, name);
    } catch (err) {
      if (err instanceof ClientError && err.code === 404) return undefined;
      throw err;
    }
  }

  async list(ns: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const { body } = await this.#request<{ items?: KObject[]; metadata?: { resourceVersion?: string; continue?: string } }>('GET', this.path(ns), {
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion },
    });
    const out: ListResult = { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? '' };
    if (body.metadata?.continue) out.continue = body.metadata.continue;
    return out;
  }

  async create(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return (await this.#request<KObject>('POST', this.path(obj.metadata?.namespace), { body: obj, query: this.#writeQuery(opts) })).body;
  }

  async update(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return (await this.#request<KObject>('PUT', this.path(obj.metadata?.namespace, nameOf(obj)), { body: obj, query: this.#writeQuery(opts) })).body;
  }

  async updateStatus(obj: KObject, opts: WriteOptions = {}): Promise<KObject> {
    return (await this.#request<KObject>('PUT', this.path(obj.metadata?.namespace, nameOf(obj), 'status'), { body: obj, query: this.#writeQuery(opts) })).body;
  }

  async patch(ns: string | undefined, name: string, type: PatchType, body: unknown, opts: PatchOptions = {}): Promise<KObject> {
    const { force, subresource, ...write } = opts;
    const query = this.#writeQuery(write);
    if (type === 'apply') {
      query.fieldManager ??= this.#client.fieldManager; // the server insists on one for apply
      if (force) query.force = true;
    }
    return (await this.#request<KObject>('PATCH', this.path(ns, name, subresource), {
      body, query, contentType: PATCH_CONTENT_TYPES[type],
    })).body;
  }

  async delete(ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.dryRun) body.dryRun = ['All'];
    const res = await this.#request<KObject | Status>('DELETE', this.path(ns, name), { body });
    const obj = res.body && res.body.kind !== 'Status' ? res.body as KObject : undefined;
    return { obj, pending: res.status === 202 };
  }

  watch(ns: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void = () => {}): Promise<WatchHandle> {
    return this.#client.watchStream(this.path(ns), {
      resourceVersion: opts.resourceVersion || undefined,
      labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      allowWatchBookmarks: opts.allowWatchBookmarks || undefined,
      timeoutSeconds: opts.timeoutSeconds,
    }, onEvent, onEnd);
  }

  #writeQuery(opts: WriteOptions): Record<string, string | number | boolean | undefined> {
    return {
      dryRun: opts.dryRun ? 'All' : undefined,
      fieldManager: opts.fieldManager,
      fieldValidation: opts.fieldValidation,
    };
  }
}

function nameOf(obj: KObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new ClientError(400, 'BadRequest', 'an update needs metadata.name');
  return name;
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => { text += d; });
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

/** A failed answer as ClientError: from its Status when it has one, else from the code. */
export function errorFrom(status: number, text: string): ClientError {
  try {
    const body = JSON.parse(text) as Partial<Status>;
    if (body && body.kind === 'Status') return ClientError.fromStatus(body, status);
  } catch { /* not JSON: fall through */ }
  return ClientError.fromStatus({ code: status, message: text.trim() || `the server answered ${status}` }, status);
}
