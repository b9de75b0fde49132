// The simulated pod lifecycle as pure functions: (pod spec, when it started, now) → the
// status a kubelet would report, and when that status next changes. No clocks, no I/O:
// the simulator calls podStatusAt again when nextChangeAt comes.
//
// Timeline of one pod: the sandbox starts at `startAt`; init containers run one after
// another (each must exit 0); then every container runs its Program at once. A container
// that exits is restarted per restartPolicy, after CrashLoopBackOff's doubling delay.
import { createHash } from 'node:crypto';
import type { KObject } from '../../api/object.ts';
import { containerProgram, PROGRAM_RULES, type Program, type ProgramRule } from './programs.ts';

type Json = Record<string, unknown>;
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** Timings of the stages, as data. */
export interface Behaviour {
  /** From first seeing a bound pod to its sandbox and containers starting: [min, max] ms. */
  startDelayMs: readonly [number, number];
  /** CrashLoopBackOff: the first restart is at once, later ones wait initialMs, 2·initialMs, … up to maxMs. */
  restartBackoff: { initialMs: number; maxMs: number };
  rules: readonly ProgramRule[];
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  startDelayMs: [0, 200],
  restartBackoff: { initialMs: 10_000, maxMs: 300_000 },
  rules: PROGRAM_RULES,
};

export interface ContainerRun {
  restartCount: number;
  state: Json;
  lastState: Json;
  running: boolean;
  /** Exited and will not run again. */
  finished: boolean;
  exitCode?: number;
  /** When the current run started (running), for readiness transition times. */
  startedAt?: number;
  /** When the last run ended, if one has. */
  finishedAt?: number;
  nextChangeAt?: number;
}

/** Kubernetes timestamps have whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function terminated(p: Program, startedAt: number, finishedAt: number, id?: string): Json {
  return {
    terminated: {
      exitCode: p.exitCode, reason: p.exitCode === 0 ? 'Completed' : 'Error',
      startedAt: isoSeconds(startedAt), finishedAt: isoSeconds(finishedAt), ...(id ? { containerID: id } : {}),
    },
  };
}

/** One container's state at `now`, having first started at `startAt`. */
export function containerRunAt(p: Program, policy: RestartPolicy, startAt: number, now: number, backoff: Behaviour['restartBackoff'], idFor: (restart: number) => string = () => ''): ContainerRun {
  let t = startAt;
  let lastState: Json = {};
  for (let n = 0; ; n++) {
    const end = t + p.durationMs;
    if (now < end) {
      return {
        restartCount: n, state: { running: { startedAt: isoSeconds(t) } }, lastState, running: true, finished: false,
        startedAt: t, ...(Number.isFinite(end) ? { nextChangeAt: end } : {}),
        ...(n > 0 ? { finishedAt: t } : {}),
      };
    }
    const again = policy === 'Always' || (policy === 'OnFailure' && p.exitCode !== 0);
    if (!again) {
      return { restartCount: n, state: terminated(p, t, end, idFor(n)), lastState, running: false, finished: true, exitCode: p.exitCode, finishedAt: end };
    }
    // The kubelet restarts at once the first time, then backs off 10 s, 20 s, 40 s … 5 min.
    const next = end + (n === 0 ? 0 : Math.max(1, Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(n - 1, 30))));
    if (now < next) {
      return {
        restartCount: n, running: false, finished: false, exitCode: p.exitCode, finishedAt: end, nextChangeAt: next,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container` } },
        lastState: terminated(p, t, end, idFor(n)),
      };
    }
    lastState = terminated(p, t, end, idFor(n));
    t = next;
  }
}

export interface PodRun {
  /** When the sandbox started (ms since the epoch). */
  startAt: number;
  hostIP: string;
  /** Undefined while the node has no address for it (then the pod stays Pending). */
  podIP?: string;
}

export interface PodStatusResult {
  /** The fields the kubelet owns; merge into the pod's status with mergePodStatus. */
  status: Json;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  nextChangeAt?: number;
}

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The pod's status at `now`. Pure: the same inputs give the same status. */
export function podStatusAt(pod: KObject, run: PodRun, now: number, behaviour: Behaviour = DEFAULT_BEHAVIOUR): PodStatusResult {
  const spec = (pod.spec ?? {}) as Json;
  const policy = (['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy as string) ? spec.restartPolicy : 'Always') as RestartPolicy;
  const uid = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
  let next: number | undefined;
  const soon = (t: number | undefined): void => { if (t !== undefined && (next === undefined || t < next)) next = t; };
  const status = (c: Json, r: ContainerRun | undefined, ready: boolean): Json => {
    const image = String(c.image ?? '');
    const out: Json = {
      name: c.name, image, imageID: `${image.split('@')[0]}@sha256:${hex(image)}`,
      ready, restartCount: r?.restartCount ?? 0, started: r?.running ?? false,
      state: r?.state ?? { waiting: { reason: 'PodInitializing' } }, lastState: r?.lastState ?? {},
    };
    if (r) out.containerID = `sim://${hex(`${uid}/${String(c.name)}/${r.restartCount}`)}`;
    return out;
  };

  // Init containers: one after another; a native sidecar (restartPolicy Always) keeps
  // running and lets the next one start at once.
  let t = run.startAt;
  let initDone = true;
  let initFailed = false;
  const initStatuses: Json[] = [];
  for (const c of (Array.isArray(spec.initContainers) ? spec.initContainers : []) as Json[]) {
    if (!initDone) { initStatuses.push(status(c, undefined, false)); continue; }
    const sidecar = c.restartPolicy === 'Always';
    const p = containerProgram(c, behaviour.rules);
    const idFor = (n: number) => `sim://${hex(`${uid}/${String(c.name)}/${n}`)}`;
    const r = containerRunAt(p, sidecar ? 'Always' : policy === 'Never' ? 'Never' : 'OnFailure', t, now, behaviour.restartBackoff, idFor);
    soon(r.nextChangeAt);
    initStatuses.push(status(c, r, sidecar ? r.running : false));
    if (sidecar) continue;
    if (r.finished && r.exitCode === 0) { t = r.finishedAt!; continue; }
    initDone = false;
    if (r.finished) initFailed = true;
  }

  const containers = (Array.isArray(spec.containers) ? spec.containers : []) as Json[];
  const runs: (ContainerRun | undefined)[] = containers.map((c) => {
    if (!initDone) return undefined;
    const idFor = (n: number) => `sim://${hex(`${uid}/${String(c.name)}/${n}`)}`;
    const r = containerRunAt(containerProgram(c, behaviour.rules), policy, t, now, behaviour.restartBackoff, idFor);
    soon(r.nextChangeAt);
    return r;
  });
  const containerStatuses = containers.map((c, i) => status(c, runs[i], runs[i]?.running ?? false));

  let phase: PodStatusResult['phase'];
  if (initFailed) phase = 'Failed';
  else if (!initDone) phase = 'Pending';
  else if (runs.length && runs.every((r) => r!.finished)) phase = runs.some((r) => r!.exitCode !== 0) ? 'Failed' : 'Succeeded';
  else phase = 'Running';
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  if (terminal) next = undefined;

  const allReady = initDone && !terminal && runs.length > 0 && runs.every((r) => r!.running);
  // When readiness last flipped: the last start while ready, the last exit while not.
  const readyAt = allReady
    ? Math.max(...runs.map((r) => r!.startedAt ?? t))
    : Math.max(t, ...runs.map((r) => r?.finishedAt ?? t));
  const cond = (type: string, ok: boolean, at: number, reason?: string): Json => ({
    type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: isoSeconds(at), ...(reason ? { reason } : {}),
  });
  const notReadyReason = terminal ? 'PodCompleted' : initDone ? 'ContainersNotReady' : 'ContainersNotInitialized';
  const conditions = [
    cond('PodReadyToStartContainers', !terminal, terminal ? readyAt : run.startAt),
    cond('Initialized', initDone, initDone ? t : run.startAt, initDone ? undefined : 'ContainersNotInitialized'),
    cond('Ready', allReady, readyAt, allReady ? undefined : notReadyReason),
    cond('ContainersReady', allReady, readyAt, allReady ? undefined : notReadyReason),
  ];
  const podIP = spec.hostNetwork === true ? run.hostIP : run.podIP;
  const out: Json = {
    phase, conditions,
    hostIP: run.hostIP, hostIPs: [{ ip: run.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: isoSeconds(run.startAt),
    ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses,
  };
  return { status: out, phase, ...(next !== undefined ? { nextChangeAt: next } : {}) };
}

const OWNED_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);

/**
 * The pod's new status: ours over the old one, keeping fields and conditions others own
 * (qosClass, PodScheduled, DisruptionTarget...). A PodScheduled condition is added if
 * nobody set one.
 */
export function mergePodStatus(old: unknown, ours: Json): Json {
  const prev = (old && typeof old === 'object' ? old : {}) as Json;
  const prevConditions = (Array.isArray(prev.conditions) ? prev.conditions : []) as Json[];
  const kept = prevConditions.filter((c) => !OWNED_CONDITIONS.has(c.type as string));
  if (!kept.some((c) => c.type === 'PodScheduled')) {
    kept.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ours.startTime });
  }
  const merged: Json = { ...prev, ...ours, conditions: [...(ours.conditions as Json[]), ...kept] };
  // Once terminal, the reason/message of a former phase do not apply.
  if (ours.phase !== prev.phase) {
    if (!('reason' in ours)) delete merged.reason;
    if (!('message' in ours)) delete merged.message;
  }
  return merged;
}
