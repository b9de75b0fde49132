// The contract between the agent's kubelet-like HTTPS server and whatever runs the pods
// (the agent's pod manager, or a fake in tests). The server only reads log files and asks
// the runtime for streaming URLs; it never talks to containerd itself.
import type { Logger } from '../../util/log.ts';
import type { MetricsEndpoints } from '../metrics/http.ts';

/** A container the node runs, as the log and streaming endpoints need it. */
export interface ContainerRef {
  containerId: string;
  podSandboxId: string;
  /** The CRI log file of the current instance of the container. */
  logPath: string;
  /** The CRI log file of the previous (terminated) instance, for `kubectl logs --previous`. */
  previousLogPath?: string;
  tty: boolean;
  stdin: boolean;
  /**
   * Whether the container is still running. `follow` ends at the end of the file once
   * this is false (as the kubelet stops following an exited container). Optional: when
   * absent, a follow ends only when the container is replaced or the client goes away.
   */
  running?: boolean;
}

export interface StreamFlags {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface PodStreamBackend {
  /** undefined → 404. */
  container(namespace: string, pod: string, container: string): ContainerRef | undefined;
  sandbox(namespace: string, pod: string): { podSandboxId: string } | undefined;
  /** CRI Exec: resolves with the URL of the runtime's streaming server for this session. */
  exec(containerId: string, cmd: string[], o: StreamFlags): Promise<string>;
  /** CRI Attach. */
  attach(containerId: string, o: StreamFlags): Promise<string>;
  /** CRI PortForward; `ports` may be empty (SPDY clients name ports per stream). */
  portForward(podSandboxId: string, ports: number[]): Promise<string>;
}

export interface KubeletServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The agent's serving certificate (see ensureAgentServingCert). */
  tls: { certPem: string; keyPem: string };
  /** Clients must present a certificate signed by this CA (the cluster CA). */
  clientCaPem: string;
  backend: PodStreamBackend;
  log: Logger;
  /** Poll interval while following a log file (default 200 ms; fs.watch wakes it sooner). */
  followPollMs?: number;
  /** Serves /metrics and /metrics/resource when given (see ../metrics). */
  metrics?: MetricsEndpoints;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}
