// The agent's view of what runs in containerd for its pods, read back through CRI.
// Times are epoch milliseconds.
export interface RtSandbox {
  id: string;
  uid: string;
  name: string;
  namespace: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  ips: string[];
}

export type RtState = 'created' | 'running' | 'exited' | 'unknown';

export interface RtContainer {
  id: string;
  sandboxId: string;
  uid: string;
  name: string;
  kind: 'init' | 'regular';
  attempt: number;
  state: RtState;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  image?: string;
  imageRef?: string;
  logPath?: string;
}

/** Why a container is not running, when it isn't because of its own exit (ErrImagePull, CrashLoopBackOff…). */
export interface Waiting {
  reason: string;
  message?: string;
}
