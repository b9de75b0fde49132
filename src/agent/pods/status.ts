// A pod's status from what runs in containerd: container states, restart counts, the
// phase and the four conditions, as the kubelet's generateAPIPodStatus computes them.
// Pure; the pod worker supplies the runtime snapshot and what it decided (waiting reasons,
// probe results).
import type { KObject } from '../../api/object.ts';
import { podQOSClass } from '../../api/kinds/pod-qos.ts';
import { isoSeconds } from '../sim/lifecycle.ts';
import type { RtContainer, RtSandbox, Waiting } from './types.ts';

type Json = Record<string, any>;

export interface StatusInput {
  sandbox?: RtSandbox;
  /** Every instance of every container of this pod, any order. */
  containers: RtContainer[];
  waiting: Map<string, Waiting>;
  ready(name: string): boolean;
  started(name: string): boolean;
  hostIP: string;
  now: number;
  /** Set when the pod is over for good (e.g. an init container failed under restartPolicy Never). */
  failed?: { reason?: string; message?: string };
}

/** Instances of one container, newest (highest attempt) first. */
export function instancesOf(containers: RtContainer[], name: string, kind?: 'init' | 'regular'): RtContainer[] {
  return containers.filter((c) => c.name === name && (!kind || c.kind === kind))
    .sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
}

export function terminatedState(c: RtContainer): Json {
  return {
    terminated: {
      exitCode: c.exitCode ?? 0,
      reason: c.reason || (c.exitCode ? 'Error' : 'Completed'),
      ...(c.message ? { message: c.message } : {}),
      startedAt: c.startedAt ? isoSeconds(c.startedAt) : null,
      finishedAt: c.finishedAt ? isoSeconds(c.finishedAt) : null,
      containerID: `containerd://${c.id}`,
    },
  };
}

function containerStatus(spec: Json, instances: RtContainer[], input: StatusInput, defaultWaiting: string): Json {
  const [latest, previous] = instances;
  const waiting = input.waiting.get(spec.name);
  let state: Json;
  let lastState: Json = previous && previous.state === 'exited' ? terminatedState(previous) : {};
  if (!latest) {
    state = { waiting: { reason: waiting?.reason ?? defaultWaiting, ...(waiting?.message ? { message: waiting.message } : {}) } };
  } else if (latest.state === 'running') {
    state = { running: { startedAt: isoSeconds(latest.startedAt ?? latest.createdAt) } };
  } else if (latest.state === 'exited' && waiting) {
    // Waiting to run again (CrashLoopBackOff, an image pull...): the exit becomes lastState.
    state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
    lastState = terminatedState(latest);
  } else if (latest.state === 'exited') {
    state = terminatedState(latest);
  } else {
    state = { waiting: { reason: waiting?.reason ?? 'ContainerCreating', ...(waiting?.message ? { message: waiting.message } : {}) } };
  }
  const running = latest?.state === 'running';
  return {
    name: spec.name,
    image: spec.image,
    imageID: latest?.imageRef ?? '',
    ...(latest ? { containerID: `containerd://${latest.id}` } : {}),
    ready: running && input.ready(spec.name),
    started: running && input.started(spec.name),
    restartCount: latest?.attempt ?? 0,
    state,
    lastState,
  };
}

const succeeded = (c: Json): boolean => c.state.terminated?.exitCode === 0;

function condition(type: string, ok: boolean, now: number, old: Json[] | undefined, reason?: string, message?: string): Json {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  return {
    type, status,
    lastProbeTime: null,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : isoSeconds(now),
    ...(!ok && reason ? { reason } : {}), ...(!ok && message ? { message } : {}),
  };
}

export function podPhase(spec: Json, inits: Json[], regular: Json[], failed: boolean): string {
  if (failed) return 'Failed';
  const policy = spec.restartPolicy ?? 'Always';
  const initPending = inits.some((c) => !succeeded(c) && !(c.state.running && c._sidecar));
  if (initPending) return 'Pending';
  let running = 0, waiting = 0, stopped = 0, ok = 0;
  for (const c of regular) {
    if (c.state.running) running++;
    else if (c.state.terminated) { stopped++; if (c.state.terminated.exitCode === 0) ok++; }
    else if (c.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === ok && regular.every((c) => c.state.terminated)) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    if (regular.every((c) => c.state.terminated)) return stopped === ok ? 'Succeeded' : 'Running';
    return 'Running';
  }
  return 'Pending';
}

export function buildPodStatus(pod: KObject, input: StatusInput): Json {
  const spec = (pod.spec ?? {}) as Json;
  const old = (pod.status ?? {}) as Json;
  const initSpecs = (spec.initContainers ?? []) as Json[];
  const specs = (spec.containers ?? []) as Json[];
  const inits: Json[] = initSpecs.map((c) => ({ ...containerStatus(c, instancesOf(input.containers, c.name, 'init'), input, 'PodInitializing'), _sidecar: c.restartPolicy === 'Always' }));
  const initDone = inits.every((c) => succeeded(c) || (c._sidecar && c.state.running));
  const regular = specs.map((c) => containerStatus(c, instancesOf(input.containers, c.name, 'regular'), input, initDone ? 'ContainerCreating' : 'PodInitializing'));
  for (const c of inits) {
    // An init container that finished is "ready" in the kubelet's terms (it did its job).
    if (succeeded(c)) c.ready = true;
  }
  const phase = podPhase(spec, inits, regular, input.failed !== undefined);
  for (const c of inits) delete c._sidecar;

  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReady = regular.filter((c) => !c.ready).map((c) => c.name);
  const notInit = inits.filter((c) => !succeeded(c)).map((c) => c.name);
  const containersReady = !terminal && notReady.length === 0;
  const notReadyMsg = `containers with unready status: [${notReady.join(' ')}]`;
  const conditions = [
    condition('PodReadyToStartContainers', !!input.sandbox?.ready, input.now, old.conditions),
    condition('Initialized', notInit.length === 0 || (terminal && initDone), input.now, old.conditions, 'ContainersNotInitialized', `containers with incomplete status: [${notInit.join(' ')}]`),
    condition('Ready', containersReady, input.now, old.conditions, terminal ? 'PodCompleted' : 'ContainersNotReady', terminal ? undefined : notReadyMsg),
    condition('ContainersReady', containersReady, input.now, old.conditions, terminal ? 'PodCompleted' : 'ContainersNotReady', terminal ? undefined : notReadyMsg),
  ];
  const ips = spec.hostNetwork ? [input.hostIP] : input.sandbox?.ips ?? [];
  return {
    phase,
    conditions,
    ...(input.failed?.reason ? { reason: input.failed.reason } : {}),
    ...(input.failed?.message ? { message: input.failed.message } : {}),
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: old.startTime ?? isoSeconds(input.now),
    ...(inits.length ? { initContainerStatuses: inits } : {}),
    containerStatuses: regular,
    qosClass: podQOSClass(spec),
  };
}
