// CriClient: the agent's CRI v1 client (RuntimeService + ImageService) over a unix socket.
//
// gRPC spoken directly over node:http2 (one HTTP/2 session per client, shared by both
// services, reopened when containerd closes it) with our own protobuf codec (proto.ts) for
// api.proto: loading @grpc/grpc-js + protobufjs cost the agent ~15 MB of RSS. Every call has
// a deadline (10 s, pulls 2 min, ExecSync its own timeout plus a margin), sent as
// grpc-timeout and enforced here too, and fails fast when the runtime is not listening
// (UNAVAILABLE, no waitForReady): the agent's loops decide when to retry. gRPC errors become
// CriError carrying the gRPC status code name ('NOT_FOUND', 'UNAVAILABLE'...).
//
// Decoding (see types.ts): int64 → decimal string (timestamps are ns since the epoch; use
// nanosToMs/nanosToDate), enums → names, scalars always present, absent messages null —
// the shapes @grpc/proto-loader gave with the options in README.md.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode, encode, parseProto, type MethodDef, type Schema } from './proto.ts';
import type {
  AttachOptions, AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatsFilter,
  ContainerStatusResponse, ExecOptions, ExecSyncResult, FilesystemUsage, Image, ImageStatusResponse, Int64,
  LinuxContainerResources, PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStats, PodSandboxStatsFilter,
  PodSandboxStatusResponse, StatusResponse, VersionResponse,
} from './types.ts';

export const PROTO_PATH = fileURLToPath(new URL('./api.proto', import.meta.url));
/** The CRI API version we speak (VersionRequest.version). */
export const CRI_API_VERSION = 'v1';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const PULL_TIMEOUT_MS = 120_000;
/** Stopping a container may take its whole grace period; the call gets that plus this. */
const STOP_MARGIN_MS = 10_000;

// ---- int64 helpers ----

/** int64 nanoseconds (decimal string) → milliseconds since the epoch (integer; 0 stays 0). */
export function nanosToMs(nanos: Int64 | number | bigint | null | undefined): number {
  if (nanos === null || nanos === undefined || nanos === '') return 0;
  return Number(BigInt(nanos) / 1_000_000n);
}

/** int64 nanoseconds → Date, or undefined for 0 (the CRI's "never"). */
export function nanosToDate(nanos: Int64 | number | bigint | null | undefined): Date | undefined {
  const ms = nanosToMs(nanos);
  return ms === 0 ? undefined : new Date(ms);
}

/** Any int64/uint64 string → number (exact below 2^53: byte counts, cgroup values). */
export function int64ToNumber(v: Int64 | number | null | undefined): number {
  if (v === null || v === undefined || v === '') return 0;
  return typeof v === 'number' ? v : Number(v);
}

// ---- errors ----

/** gRPC status codes by number (grpc-js' `status` enum names). */
const CODE_NAMES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
const S = {
  CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16,
} as const;

/** A failed CRI call: `code` is the gRPC status name, `message` names the method and carries the runtime's text. */
export class CriError extends Error {
  readonly code: string;
  readonly grpcCode: number;
  readonly method: string;
  /** the runtime's own message, without our prefix */
  readonly details: string;
  constructor(method: string, grpcCode: number, details: string) {
    const code = CODE_NAMES[grpcCode] ?? `CODE_${grpcCode}`;
    super(`CRI ${method}: ${code}: ${details}`);
    this.name = 'CriError';
    this.code = code;
    this.grpcCode = grpcCode;
    this.method = method;
    this.details = details;
  }
}

const hasCode = (err: unknown, code: string) => err instanceof CriError && err.code === code;
export const isNotFound = (err: unknown): boolean => hasCode(err, 'NOT_FOUND');
export const isUnavailable = (err: unknown): boolean => hasCode(err, 'UNAVAILABLE');
export const isUnimplemented = (err: unknown): boolean => hasCode(err, 'UNIMPLEMENTED');
export const isDeadlineExceeded = (err: unknown): boolean => hasCode(err, 'DEADLINE_EXCEEDED');
export const isAlreadyExists = (err: unknown): boolean => hasCode(err, 'ALREADY_EXISTS');

// ---- transport: unary gRPC over HTTP/2 on a unix socket ----


/** Largest response we accept (ListContainers/ListImages on a busy node stay far below). */
export const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;
/** Largest request we send. */
const MAX_SEND_BYTES = 16 * 1024 * 1024;

let schema: Schema | undefined;
function loadSchema(): Schema {
  schema ??= parseProto(readFileSync(PROTO_PATH, 'utf8'));
  return schema;
}

interface Service { methods: Map<string, MethodDef> }

/** grpc-timeout header value: at most 8 digits. */
function grpcTimeout(ms: number): string {
  const t = Math.max(1, Math.ceil(ms));
  return t < 1e8 ? `${t}m` : `${Math.ceil(t / 1000)}S`;
}

/** grpc-message is percent-encoded UTF-8. */
function decodeGrpcMessage(v: unknown): string {
  const s = Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : '';
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** What a non-gRPC HTTP status means (grpc's http-grpc-status-mapping.md). */
function httpStatusToGrpc(status: number): number {
  switch (status) {
    case 400: return S.INTERNAL;
    case 401: return S.UNAUTHENTICATED;
    case 403: return S.PERMISSION_DENIED;
    case 404: return S.UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return S.UNAVAILABLE;
    default: return S.UNKNOWN;
  }
}

export class CriClient {
  readonly socketPath: string;
  #runtime: Service;
  #image: Service;
  #session: http2.ClientHttp2Session | undefined;
  #closed = false;

  private constructor(socketPath: string) {
    this.socketPath = socketPath;
    const s = loadSchema();
    this.#runtime = s.services.get(`${s.package}.RuntimeService`)!;
    this.#image = s.services.get(`${s.package}.ImageService`)!;
  }

  /** A client for the CRI socket at `socketPath` (absolute path). Connects lazily. */
  static connect(socketPath: string): CriClient {
    return new CriClient(socketPath);
  }

  /** Closes the connection once the calls under way are done; later calls fail. */
  close(): void {
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    if (s && !s.destroyed) s.close();
  }

  /** The current HTTP/2 session, or a new one when there is none or it closed/errored/got GOAWAY. */
  #getSession(): http2.ClientHttp2Session {
    const cur = this.#session;
    if (cur && !cur.closed && !cur.destroyed) return cur;
    const session = http2.connect('http://localhost', {
      createConnection: () => net.connect(this.socketPath),
      // big responses (ListContainers on a busy node) flow without waiting on WINDOW_UPDATEs
      settings: { initialWindowSize: 4 * 1024 * 1024, enablePush: false },
      maxSessionMemory: 64,
    });
    const drop = () => {
      if (this.#session === session) this.#session = undefined;
    };
    // errors reach the streams under way; the session only has to be replaced
    session.on('error', drop);
    session.on('goaway', drop);
    session.on('close', drop);
    session.on('connect', () => {
      try {
        session.setLocalWindowSize(16 * 1024 * 1024);
      } catch {
        // the session closed in between
      }
    });
    // the session never keeps the process alive; a call under way does (its deadline timer)
    session.unref();
    this.#session = session;
    return session;
  }

  /** Resolves once Version answers; rejects after timeoutMs with the last error. */
  async waitReady(timeoutMs: number): Promise<VersionResponse> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        return await this.#call<VersionResponse>(this.#runtime, 'Version', { version: CRI_API_VERSION }, Math.min(left, 2000));
      } catch (err) {
        // containerd serves its socket only once every plugin loaded: UNIMPLEMENTED means
        // the CRI plugin failed to load and will not come.
        if (isUnimplemented(err)) throw new Error(`CRI runtime at ${this.socketPath} has no CRI v1 service: ${(err as Error).message}`);
        last = err;
      }
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(0, deadline - Date.now()))));
    }
    throw new Error(`CRI runtime at ${this.socketPath} not ready after ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`);
  }

  #call<T>(svc: Service, method: string, req: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const def = svc.methods.get(method);
      if (!def) return reject(new Error(`CRI: no method ${method}`));
      if (this.#closed) return reject(new Error('CRI client closed'));
      let body: Buffer;
      try {
        body = encode(def.requestType, (req ?? {}) as Record<string, unknown>);
      } catch (err) {
        return reject(new CriError(method, S.INTERNAL, `Request message serialization failure: ${(err as Error).message}`));
      }
      if (body.length > MAX_SEND_BYTES) {
        return reject(new CriError(method, S.RESOURCE_EXHAUSTED, `Sent message larger than max (${body.length} vs. ${MAX_SEND_BYTES})`));
      }

      let done = false;
      let stream: http2.ClientHttp2Stream | undefined;
      const finish = (err: CriError | null, res?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
        if (err) reject(err);
        else resolve(res as T);
      };
      const timer = setTimeout(() => finish(new CriError(method, S.DEADLINE_EXCEEDED, `Deadline exceeded after ${(timeoutMs / 1000).toFixed(3)}s`)), timeoutMs);

      let session: http2.ClientHttp2Session;
      try {
        session = this.#getSession();
        stream = session.request({
          ':method': 'POST',
          ':path': def.path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': grpcTimeout(timeoutMs),
          'grpc-accept-encoding': 'identity',
          'user-agent': 'skiff-cri/1',
        });
      } catch (err) {
        return finish(new CriError(method, S.UNAVAILABLE, (err as Error).message));
      }

      let status: number | undefined;
      let message = '';
      let httpStatus = 0;
      let contentType = '';
      const chunks: Buffer[] = [];
      let received = 0;
      const takeStatus = (h: http2.IncomingHttpHeaders) => {
        const gs = h['grpc-status'];
        if (gs !== undefined) {
          status = Number(Array.isArray(gs) ? gs[0] : gs);
          message = decodeGrpcMessage(h['grpc-message']);
        }
      };
      stream.on('response', (headers) => {
        httpStatus = Number(headers[':status']);
        contentType = String(headers['content-type'] ?? '');
        takeStatus(headers); // trailers-only response
      });
      stream.on('trailers', takeStatus);
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RECEIVE_BYTES + 5) {
          finish(new CriError(method, S.RESOURCE_EXHAUSTED, `Received message larger than max (${received - 5} vs. ${MAX_RECEIVE_BYTES})`));
          return;
        }
        chunks.push(chunk);
      });
      let transportError: Error | undefined;
      stream.on('error', (err) => {
        transportError ??= err;
      });
      stream.on('close', () => {
        if (done) return;
        if (status === undefined) {
          if (httpStatus && httpStatus !== 200) {
            return finish(new CriError(method, httpStatusToGrpc(httpStatus), `Received HTTP status code ${httpStatus}`));
          }
          const rst = stream!.rstCode;
          const sessionGone = session.destroyed || session.closed;
          if (!sessionGone && rst !== undefined && rst !== http2.constants.NGHTTP2_NO_ERROR) {
            const code = rst === http2.constants.NGHTTP2_REFUSED_STREAM ? S.UNAVAILABLE
              : rst === http2.constants.NGHTTP2_CANCEL ? S.CANCELLED
                : rst === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM ? S.RESOURCE_EXHAUSTED
                  : rst === http2.constants.NGHTTP2_INADEQUATE_SECURITY ? S.PERMISSION_DENIED : S.INTERNAL;
            return finish(new CriError(method, code, `Received RST_STREAM with code ${rst}${transportError ? ` (${transportError.message})` : ''}`));
          }
          // connection refused/reset, socket missing, session torn down: the runtime is not there
          return finish(new CriError(method, S.UNAVAILABLE, transportError ? transportError.message : 'Connection dropped'));
        }
        if (status !== 0) return finish(new CriError(method, status, message));
        if (!contentType.startsWith('application/grpc')) {
          return finish(new CriError(method, S.UNKNOWN, `Unexpected content-type ${JSON.stringify(contentType)}`));
        }
        const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (data.length < 5) return finish(new CriError(method, S.UNIMPLEMENTED, 'No message received'));
        if (data[0] !== 0) return finish(new CriError(method, S.INTERNAL, 'Received a compressed message but none was negotiated'));
        const len = data.readUInt32BE(1);
        if (len > MAX_RECEIVE_BYTES) {
          return finish(new CriError(method, S.RESOURCE_EXHAUSTED, `Received message larger than max (${len} vs. ${MAX_RECEIVE_BYTES})`));
        }
        if (data.length < 5 + len) return finish(new CriError(method, S.INTERNAL, 'Truncated gRPC message'));
        let res: unknown;
        try {
          res = decode(def.responseType, data.subarray(5, 5 + len));
        } catch (err) {
          return finish(new CriError(method, S.INTERNAL, `Response message parsing error: ${(err as Error).message}`));
        }
        finish(null, res);
      });

      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      stream.end(frame);
    });
  }

  // ---- runtime ----

  version(): Promise<VersionResponse> {
    return this.#call(this.#runtime, 'Version', { version: CRI_API_VERSION });
  }

  status(verbose = false): Promise<StatusResponse> {
    return this.#call(this.#runtime, 'Status', { verbose });
  }

  /** Tells the runtime the node's pod CIDR (containerd passes it to CNI templates only). */
  async updateRuntimeConfig(podCidr: string): Promise<void> {
    await this.#call(this.#runtime, 'UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr } } });
  }

  // ---- sandboxes ----

  /** Creates and starts a sandbox (pause container + netns + CNI); returns its id. */
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = '', timeoutMs = 60_000): Promise<string> {
    const res = await this.#call<{ podSandboxId: string }>(this.#runtime, 'RunPodSandbox', { config, runtimeHandler }, timeoutMs);
    return res.podSandboxId;
  }

  /** Kills every container of the sandbox and tears its network down. Idempotent. */
  async stopPodSandbox(id: string, timeoutMs = 60_000): Promise<void> {
    await this.#call(this.#runtime, 'StopPodSandbox', { podSandboxId: id }, timeoutMs);
  }

  /** Removes a stopped sandbox and its containers. Idempotent in containerd (missing → ok). */
  async removePodSandbox(id: string, timeoutMs = 60_000): Promise<void> {
    await this.#call(this.#runtime, 'RemovePodSandbox', { podSandboxId: id }, timeoutMs);
  }

  podSandboxStatus(id: string, verbose = false): Promise<PodSandboxStatusResponse> {
    return this.#call(this.#runtime, 'PodSandboxStatus', { podSandboxId: id, verbose });
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const res = await this.#call<{ items: PodSandbox[] }>(this.#runtime, 'ListPodSandbox', { filter: filter ?? null });
    return res.items;
  }

  // ---- containers ----

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, timeoutMs = 60_000): Promise<string> {
    const res = await this.#call<{ containerId: string }>(this.#runtime, 'CreateContainer', { podSandboxId: sandboxId, config, sandboxConfig }, timeoutMs);
    return res.containerId;
  }

  async startContainer(id: string, timeoutMs = 60_000): Promise<void> {
    await this.#call(this.#runtime, 'StartContainer', { containerId: id }, timeoutMs);
  }

  /** SIGTERM (or the image's StopSignal), SIGKILL after timeoutSeconds. 0 kills at once. */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.#call(this.#runtime, 'StopContainer', { containerId: id, timeout: timeoutSeconds }, timeoutSeconds * 1000 + STOP_MARGIN_MS);
  }

  /** Removes a container (force-kills it if running). */
  async removeContainer(id: string): Promise<void> {
    await this.#call(this.#runtime, 'RemoveContainer', { containerId: id }, 30_000);
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const res = await this.#call<{ containers: Container[] }>(this.#runtime, 'ListContainers', { filter: filter ?? null });
    return res.containers;
  }

  containerStatus(id: string, verbose = false): Promise<ContainerStatusResponse> {
    return this.#call(this.#runtime, 'ContainerStatus', { containerId: id, verbose });
  }

  async updateContainerResources(id: string, linux: LinuxContainerResources, annotations?: Record<string, string>): Promise<void> {
    await this.#call(this.#runtime, 'UpdateContainerResources', { containerId: id, linux, annotations: annotations ?? {} });
  }

  /** Asks the runtime to reopen the container's log file (after the agent rotated it). */
  async reopenContainerLog(id: string): Promise<void> {
    await this.#call(this.#runtime, 'ReopenContainerLog', { containerId: id });
  }

  // ---- exec, attach, port-forward ----

  /**
   * Runs cmd in the container and collects its output. timeoutSeconds 0 = no runtime-side
   * timeout (the gRPC deadline is then 10 min). On timeout containerd returns
   * DEADLINE_EXCEEDED (a CriError), not an exit code.
   */
  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const deadlineMs = timeoutSeconds > 0 ? timeoutSeconds * 1000 + 5_000 : 600_000;
    const res = await this.#call<{ stdout: Buffer | Uint8Array; stderr: Buffer | Uint8Array; exitCode: number }>(
      this.#runtime, 'ExecSync', { containerId, cmd, timeout: timeoutSeconds }, deadlineMs,
    );
    return { stdout: Buffer.from(res.stdout ?? []), stderr: Buffer.from(res.stderr ?? []), exitCode: res.exitCode };
  }

  /** A one-shot URL on the runtime's stream server (http://127.0.0.1:PORT/exec/TOKEN), SPDY or WebSocket. */
  async exec(opts: ExecOptions): Promise<string> {
    const res = await this.#call<{ url: string }>(this.#runtime, 'Exec', {
      containerId: opts.containerId, cmd: opts.cmd, tty: opts.tty ?? false,
      stdin: opts.stdin ?? false, stdout: opts.stdout ?? true, stderr: opts.tty ? false : (opts.stderr ?? true),
    });
    return res.url;
  }

  async attach(opts: AttachOptions): Promise<string> {
    const res = await this.#call<{ url: string }>(this.#runtime, 'Attach', {
      containerId: opts.containerId, tty: opts.tty ?? false,
      stdin: opts.stdin ?? false, stdout: opts.stdout ?? true, stderr: opts.tty ? false : (opts.stderr ?? true),
    });
    return res.url;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    const res = await this.#call<{ url: string }>(this.#runtime, 'PortForward', { podSandboxId, port: ports });
    return res.url;
  }

  // ---- stats ----

  async containerStats(id: string): Promise<ContainerStats> {
    const res = await this.#call<{ stats: ContainerStats }>(this.#runtime, 'ContainerStats', { containerId: id });
    return res.stats;
  }

  async listContainerStats(filter?: ContainerStatsFilter): Promise<ContainerStats[]> {
    const res = await this.#call<{ stats: ContainerStats[] }>(this.#runtime, 'ListContainerStats', { filter: filter ?? null });
    return res.stats;
  }

  async podSandboxStats(id: string): Promise<PodSandboxStats> {
    const res = await this.#call<{ stats: PodSandboxStats }>(this.#runtime, 'PodSandboxStats', { podSandboxId: id });
    return res.stats;
  }

  async listPodSandboxStats(filter?: PodSandboxStatsFilter): Promise<PodSandboxStats[]> {
    const res = await this.#call<{ stats: PodSandboxStats[] }>(this.#runtime, 'ListPodSandboxStats', { filter: filter ?? null });
    return res.stats;
  }

  // ---- images ----

  async listImages(filter?: string): Promise<Image[]> {
    const res = await this.#call<{ images: Image[] }>(this.#image, 'ListImages', { filter: filter ? { image: { image: filter } } : null }, 30_000);
    return res.images;
  }

  /** `image` is null when the image is not present. */
  imageStatus(ref: string, verbose = false): Promise<ImageStatusResponse> {
    return this.#call(this.#image, 'ImageStatus', { image: { image: ref }, verbose });
  }

  /** Pulls ref (registry mirrors and TLS come from containerd's config); returns the image ref (id). */
  async pullImage(ref: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, timeoutMs = PULL_TIMEOUT_MS): Promise<string> {
    const res = await this.#call<{ imageRef: string }>(this.#image, 'PullImage', {
      image: { image: ref }, auth: auth ?? null, sandboxConfig: sandboxConfig ?? null,
    }, timeoutMs);
    return res.imageRef;
  }

  async removeImage(ref: string): Promise<void> {
    await this.#call(this.#image, 'RemoveImage', { image: { image: ref } }, 60_000);
  }

  async imageFsInfo(): Promise<FilesystemUsage[]> {
    const res = await this.#call<{ imageFilesystems: FilesystemUsage[] }>(this.#image, 'ImageFsInfo', {});
    return res.imageFilesystems;
  }
}
