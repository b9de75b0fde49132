// The kubelet's prober manager (pkg/kubelet/prober/{prober_manager,worker}.go) for one node:
// a worker per container and probe type, on the injected clock. Results go to the pod
// worker through `onResult`, only when a probe's thresholded result changes; the pod worker
// restarts containers on liveness/startup failure and writes Ready/Started into the status.
import { realTimers, type Timers } from '../../client/timers.ts';
import { runHandler as defaultRunHandler, type Handler, type HandlerContext, type HandlerResult, type Probe, type ProbedContainer } from './handlers.ts';

export type ProbeType = 'startup' | 'liveness' | 'readiness';
export type ProbeResult = 'success' | 'failure';

export interface ProbeResultEvent {
  podUid: string;
  containerName: string;
  probe: ProbeType;
  result: ProbeResult;
  /** The output of the attempt that decided the result. */
  message: string;
}

/**
 * One attempt that did not plainly succeed, worded as the kubelet's events:
 * reason Unhealthy, "Liveness probe failed: HTTP probe failed with statuscode: 500";
 * reason Unhealthy, "Readiness probe errored: port http not found";
 * reason ProbeWarning, "Readiness probe warning: Probe terminated redirects, ...".
 */
export interface ProbeAttemptEvent {
  podUid: string;
  containerName: string;
  probe: ProbeType;
  reason: 'Unhealthy' | 'ProbeWarning';
  message: string;
}

/** What a container's probes need besides its spec: the pod IP and the runtime's exec. */
export type ProbeContext = Omit<HandlerContext, 'container' | 'purpose' | 'timeoutSeconds'>;

export type HandlerRunner = (handler: Handler, ctx: HandlerContext) => Promise<HandlerResult>;

export interface ProbeManagerOptions {
  onResult(event: ProbeResultEvent): void;
  /** Every failed, errored or warning attempt, for the pod's events. */
  onAttempt?(event: ProbeAttemptEvent): void;
  timers?: Timers;
  random?: () => number;
  /** Replaces the real handlers (tests). */
  runHandler?: HandlerRunner;
  /**
   * Random delay (a fraction of the period) before a worker's first probe:
   * 'afterRestart' (the kubelet's rule, default) only while the manager is younger than the
   * probe's period, so containers adopted after an agent restart are not all probed at once;
   * 'always'; 'never'. Never earlier than initialDelaySeconds after the container started.
   */
  jitter?: 'afterRestart' | 'always' | 'never';
}

interface Worker {
  readonly type: ProbeType;
  readonly spec: Required<Pick<Probe, 'initialDelaySeconds' | 'timeoutSeconds' | 'periodSeconds' | 'successThreshold' | 'failureThreshold'>>;
  readonly probe: Probe;
  handle: unknown;
  /** The next tick, on the manager's clock. */
  nextAt: number;
  running: boolean;
  /** A tick came while a probe was running: run again as soon as it finishes (Go's ticker). */
  tickPending: boolean;
  stopped: boolean;
  lastResult?: ProbeResult;
  resultRun: number;
}

interface ContainerState {
  readonly podUid: string;
  readonly name: string;
  readonly ctx: HandlerContext;
  readonly startedAtMs: number;
  readonly workers: Map<ProbeType, Worker>;
  /** The thresholded results; startup and readiness are absent until known. */
  readonly results: Map<ProbeType, ProbeResult>;
}

const LABEL: Record<ProbeType, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };

export class ProbeManager {
  readonly #onResult: (e: ProbeResultEvent) => void;
  readonly #onAttempt: ((e: ProbeAttemptEvent) => void) | undefined;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #run: HandlerRunner;
  readonly #jitter: 'afterRestart' | 'always' | 'never';
  readonly #startedAt: number;
  /** podUid → container name → state. */
  readonly #pods = new Map<string, Map<string, ContainerState>>();
  #stopped = false;

  constructor(opts: ProbeManagerOptions) {
    this.#onResult = opts.onResult;
    this.#onAttempt = opts.onAttempt;
    this.#timers = opts.timers ?? realTimers;
    this.#random = opts.random ?? Math.random;
    this.#run = opts.runHandler ?? defaultRunHandler;
    this.#jitter = opts.jitter ?? 'afterRestart';
    this.#startedAt = this.#timers.now();
  }

  /**
   * Starts probing a running container. Call it again for each new instance of the
   * container (after a restart): any previous instance's workers are stopped and its
   * results forgotten. `startedAtMs` is when the container started, on the manager's clock.
   */
  addContainer(podUid: string, container: ProbedContainer, ctx: ProbeContext, startedAtMs: number): void {
    if (this.#stopped) return;
    this.removeContainer(podUid, container.name);
    let pod = this.#pods.get(podUid);
    if (!pod) this.#pods.set(podUid, (pod = new Map()));
    const state: ContainerState = {
      podUid,
      name: container.name,
      ctx: { ...ctx, container: { name: container.name, ports: container.ports ?? [] }, purpose: 'probe' },
      startedAtMs,
      workers: new Map(),
      results: new Map(),
    };
    pod.set(container.name, state);
    const probes: [ProbeType, Probe | undefined][] = [
      ['startup', container.startupProbe],
      ['liveness', container.livenessProbe],
      ['readiness', container.readinessProbe],
    ];
    for (const [type, probe] of probes) if (probe) state.workers.set(type, newWorker(type, probe));
    if (state.workers.has('liveness')) state.results.set('liveness', 'success');
    if (state.workers.has('readiness')) state.results.set('readiness', 'failure');

    const startup = state.workers.get('startup');
    if (startup) this.#startFirst(state, startup);
    else for (const type of ['liveness', 'readiness'] as const) {
      const w = state.workers.get(type);
      if (w) this.#startFirst(state, w);
    }
  }

  /** Stops the container's workers (it died, is being restarted, or is gone). */
  removeContainer(podUid: string, containerName: string): void {
    const pod = this.#pods.get(podUid);
    const state = pod?.get(containerName);
    if (!pod || !state) return;
    for (const w of state.workers.values()) this.#stopWorker(w);
    pod.delete(containerName);
    if (pod.size === 0) this.#pods.delete(podUid);
  }

  removePod(podUid: string): void {
    const pod = this.#pods.get(podUid);
    if (!pod) return;
    for (const name of [...pod.keys()]) this.removeContainer(podUid, name);
  }

  /**
   * The pod is terminating: liveness and startup stop (a failing probe must not restart a
   * container that is shutting down); readiness keeps running, as in the kubelet.
   */
  stopLivenessAndStartup(podUid: string): void {
    for (const state of this.#pods.get(podUid)?.values() ?? []) {
      for (const type of ['liveness', 'startup'] as const) {
        const w = state.workers.get(type);
        if (w) this.#stopWorker(w);
      }
    }
  }

  /**
   * ContainerStatus.ready as the kubelet computes it: false until started; then true
   * without a readiness probe, else the readiness result (false until a probe succeeds).
   */
  readiness(podUid: string, containerName: string): boolean {
    const state = this.#pods.get(podUid)?.get(containerName);
    if (!state || !this.#started(state)) return false;
    return !state.workers.has('readiness') || state.results.get('readiness') === 'success';
  }

  /** ContainerStatus.started: true without a startup probe, else once it has succeeded. */
  startupDone(podUid: string, containerName: string): boolean {
    const state = this.#pods.get(podUid)?.get(containerName);
    return !!state && this.#started(state);
  }

  /** Stops every worker; the manager takes no more containers. */
  stop(): void {
    this.#stopped = true;
    for (const podUid of [...this.#pods.keys()]) this.removePod(podUid);
  }

  // ---- workers ---------------------------------------------------------------------------

  #started(state: ContainerState): boolean {
    return !state.workers.has('startup') || state.results.get('startup') === 'success';
  }

  /** The first run: after the jitter, never before initialDelaySeconds. */
  #startFirst(state: ContainerState, w: Worker, immediate = false): void {
    const now = this.#timers.now();
    const period = w.spec.periodSeconds * 1000;
    const jitter = !immediate && (this.#jitter === 'always' || (this.#jitter === 'afterRestart' && now - this.#startedAt < period))
      ? Math.floor(this.#random() * period)
      : 0;
    const at = Math.max(now + jitter, state.startedAtMs + w.spec.initialDelaySeconds * 1000);
    this.#schedule(state, w, at);
  }

  #schedule(state: ContainerState, w: Worker, at: number): void {
    if (w.stopped) return;
    if (w.handle !== undefined) this.#timers.clearTimeout(w.handle);
    w.nextAt = at;
    w.handle = this.#timers.setTimeout(() => this.#tick(state, w), Math.max(0, at - this.#timers.now()));
  }

  #tick(state: ContainerState, w: Worker): void {
    w.handle = undefined;
    if (w.stopped) return;
    // Like a Go ticker: the next tick is one period after this one, whatever the probe takes.
    const period = w.spec.periodSeconds * 1000;
    let next = w.nextAt + period;
    const now = this.#timers.now();
    if (next <= now) next = now + period - ((now - w.nextAt) % period);
    this.#schedule(state, w, next);
    if (w.running) {
      w.tickPending = true;
      return;
    }
    void this.#probe(state, w);
  }

  async #probe(state: ContainerState, w: Worker): Promise<void> {
    w.running = true;
    let res: HandlerResult;
    try {
      res = await this.#run(w.probe, { ...state.ctx, timeoutSeconds: w.spec.timeoutSeconds });
    } catch (err) {
      res = { ok: false, unknown: true, message: err instanceof Error ? err.message : String(err) };
    }
    w.running = false;
    if (w.stopped) return; // the container was removed while the probe ran
    this.#record(state, w, res);
    if (w.tickPending && !w.stopped) {
      w.tickPending = false;
      void this.#probe(state, w);
    }
  }

  #record(state: ContainerState, w: Worker, res: HandlerResult): void {
    const label = LABEL[w.type];
    if (res.unknown) {
      // The kubelet throws prober errors away: they count neither way.
      this.#attempt(state, w, 'Unhealthy', `${label} probe errored: ${res.message}`);
      return;
    }
    if (!res.ok) this.#attempt(state, w, 'Unhealthy', `${label} probe failed: ${res.message}`);
    else if (res.warning) this.#attempt(state, w, 'ProbeWarning', `${label} probe warning: ${res.message}`);

    const result: ProbeResult = res.ok ? 'success' : 'failure';
    if (w.lastResult === result) w.resultRun++;
    else {
      w.lastResult = result;
      w.resultRun = 1;
    }
    const threshold = result === 'failure' ? w.spec.failureThreshold : w.spec.successThreshold;
    if (w.resultRun < threshold) return;

    const prev = state.results.get(w.type);
    state.results.set(w.type, result);

    // Liveness failure and any startup result put the worker on hold until a new container
    // instance is added: probing a container that is being killed helps no one.
    if ((w.type === 'liveness' && result === 'failure') || w.type === 'startup') this.#stopWorker(w);
    if (w.type === 'startup' && result === 'success') {
      // The container has started: liveness and readiness begin; readiness at once (the
      // kubelet triggers it manually so a started container becomes ready without waiting a
      // period), both still no earlier than initialDelaySeconds after the container started.
      const readiness = state.workers.get('readiness');
      if (readiness) this.#startFirst(state, readiness, true);
      const liveness = state.workers.get('liveness');
      if (liveness) this.#schedule(state, liveness, Math.max(this.#timers.now() + liveness.spec.periodSeconds * 1000, state.startedAtMs + liveness.spec.initialDelaySeconds * 1000));
    }

    if (prev !== result) {
      this.#onResult({ podUid: state.podUid, containerName: state.name, probe: w.type, result, message: res.message });
    }
  }

  #attempt(state: ContainerState, w: Worker, reason: ProbeAttemptEvent['reason'], message: string): void {
    this.#onAttempt?.({ podUid: state.podUid, containerName: state.name, probe: w.type, reason, message });
  }

  #stopWorker(w: Worker): void {
    w.stopped = true;
    w.tickPending = false;
    if (w.handle !== undefined) this.#timers.clearTimeout(w.handle);
    w.handle = undefined;
  }
}

function newWorker(type: ProbeType, probe: Probe): Worker {
  const positive = (v: number | undefined, d: number): number => (v !== undefined && v > 0 ? v : d);
  return {
    type,
    probe,
    spec: {
      initialDelaySeconds: Math.max(0, probe.initialDelaySeconds ?? 0),
      timeoutSeconds: positive(probe.timeoutSeconds, 1),
      periodSeconds: positive(probe.periodSeconds, 10),
      // Validation requires 1 for liveness and startup; the kubelet forces it too.
      successThreshold: type === 'readiness' ? positive(probe.successThreshold, 1) : 1,
      failureThreshold: positive(probe.failureThreshold, 3),
    },
    handle: undefined,
    nextAt: 0,
    running: false,
    tickPending: false,
    stopped: false,
    resultRun: 0,
  };
}
