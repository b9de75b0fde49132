// CriClient: the agent's CRI v1 client (RuntimeService + ImageService) over a unix socket.
//
// One gRPC channel per client, shared by both services. Every call has a deadline (10 s,
// pulls 2 min, ExecSync its own timeout plus a margin) and fails fast when the runtime is
// not listening (no waitForReady): the agent's loops decide when to retry. gRPC errors
// become CriError carrying the gRPC status code name ('NOT_FOUND', 'UNAVAILABLE'...).
//
// Decoding (see types.ts): int64 → decimal string (timestamps are ns since the epoch; use
// nanosToMs/nanosToDate), enums → names, scalars always present, absent messages null.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type {
  AttachOptions, AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatsFilter,
  ContainerStatusResponse, ExecOptions, ExecSyncResult, FilesystemUsage, Image, ImageStatusResponse, Int64,
  LinuxContainerResources, PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStats, PodSandboxStatsFilter,
  PodSandboxStatusResponse, StatusResponse, VersionResponse,
} from './types.ts';

export const PROTO_PATH = fileURLToPath(new URL('./api.proto', import.meta.url));
/** The CRI API version we speak (VersionRequest.version). */
export const CRI_API_VERSION = 'v1';

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

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

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]),
);

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

// ---- client ----

type Callback = (err: grpc.ServiceError | null, res: unknown) => void;
type UnaryMethod = (req: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;
type ServiceClient = grpc.Client & Record<string, UnaryMethod>;
type ServiceCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => ServiceClient;

let services: { runtime: ServiceCtor; image: ServiceCtor } | undefined;
function loadServices() {
  if (!services) {
    const def = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: ServiceCtor; ImageService: ServiceCtor } } };
    services = { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
  }
  return services;
}

export class CriClient {
  readonly socketPath: string;
  #runtime: ServiceClient;
  #image: ServiceClient;

  private constructor(socketPath: string) {
    this.socketPath = socketPath;
    const { runtime, image } = loadServices();
    const options: grpc.ClientOptions = {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      // Reconnect quickly after containerd restarts (the default backoff grows to 2 min).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.enable_retries': 0,
    };
    this.#runtime = new runtime(`unix://${socketPath}`, grpc.credentials.createInsecure(), options);
    this.#image = new image(`unix://${socketPath}`, grpc.credentials.createInsecure(), { ...options, channelOverride: this.#runtime.getChannel() });
  }

  /** A client for the CRI socket at `socketPath` (absolute path). Connects lazily. */
  static connect(socketPath: string): CriClient {
    return new CriClient(socketPath);
  }

  close(): void {
    this.#image.close();
    this.#runtime.close();
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

  #call<T>(svc: ServiceClient, method: string, req: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fn = svc[method];
      if (typeof fn !== 'function') return reject(new Error(`CRI: no method ${method}`));
      fn.call(svc, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code ?? grpc.status.UNKNOWN, err.details || err.message));
        else resolve(res as T);
      });
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
