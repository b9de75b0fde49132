// The `kubectl get pods` row: READY, STATUS, RESTARTS as kubectl's pod printer derives
// them from the pod's status, plus the wide columns.
import { obj, objs, str, num, type Json } from './access.ts';
import { humanDuration, orNone } from './format.ts';
import type { KObject } from '../object.ts';

interface Restarts {
  count: number;
  /** ms since epoch of the latest restart we know of, 0 when unknown. */
  last: number;
}

const finishedAt = (cs: Json): number => {
  const t = Date.parse(str(obj(obj(cs.lastState).terminated).finishedAt));
  return Number.isNaN(t) ? 0 : t;
};

const addRestarts = (r: Restarts, cs: Json): void => {
  r.count += num(cs.restartCount);
  r.last = Math.max(r.last, finishedAt(cs));
};

// Sidecars: init containers that keep running (restartPolicy Always) count as containers.
const isSidecar = (c: Json | undefined): boolean => c?.restartPolicy === 'Always';

const terminatedReason = (t: Json, prefix: string): string => {
  if (str(t.reason)) return prefix + str(t.reason);
  return num(t.signal) !== 0 ? `${prefix}Signal:${num(t.signal)}` : `${prefix}ExitCode:${num(t.exitCode)}`;
};

const hasCondition = (status: Json, type: string): boolean =>
  objs(status.conditions).some((c) => c.type === type && c.status === 'True');

export interface PodRow {
  ready: string;
  status: string;
  restarts: string;
}

export function podRow(pod: KObject, now: number): PodRow {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const phase = str(status.phase);
  let reason = str(status.reason) || phase;
  for (const c of objs(status.conditions)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initSpecs = new Map(objs(spec.initContainers).map((c) => [str(c.name), c]));
  const total = objs(spec.containers).length + [...initSpecs.values()].filter(isSidecar).length;
  let ready = 0;
  const all: Restarts = { count: 0, last: 0 };
  const sidecars: Restarts = { count: 0, last: 0 };

  // Init containers: the first one not done decides the status ("Init:1/3", "Init:Error").
  let initializing = false;
  const initStatuses = objs(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    const state = obj(cs.state);
    const sidecar = isSidecar(initSpecs.get(str(cs.name)));
    addRestarts(all, cs);
    if (sidecar) addRestarts(sidecars, cs);
    const terminated = state.terminated === undefined ? undefined : obj(state.terminated);
    if (terminated && num(terminated.exitCode) === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready === true) ready++;
      continue;
    }
    const waitingReason = str(obj(state.waiting).reason);
    if (terminated) reason = terminatedReason(terminated, 'Init:');
    else if (waitingReason && waitingReason !== 'PodInitializing') reason = `Init:${waitingReason}`;
    else reason = `Init:${i}/${initSpecs.size}`;
    initializing = true;
    break;
  }

  let restarts = all;
  if (!initializing || hasCondition(status, 'Initialized')) {
    restarts = { ...sidecars };
    let running = false;
    // Walk backwards so the first container's state wins, as kubectl does.
    const statuses = objs(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      const state = obj(cs.state);
      addRestarts(restarts, cs);
      const waitingReason = str(obj(state.waiting).reason);
      if (waitingReason) reason = waitingReason;
      else if (state.terminated !== undefined) reason = terminatedReason(obj(state.terminated), '');
      else if (cs.ready === true && state.running !== undefined) {
        running = true;
        ready++;
      }
    }
    // A finished container next to a running one does not make the pod Completed.
    if (reason === 'Completed' && running) reason = hasCondition(status, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartText = restarts.count !== 0 && restarts.last !== 0
    ? `${restarts.count} (${humanDuration(now - restarts.last)} ago)`
    : String(restarts.count);
  return { ready: `${ready}/${total}`, status: reason, restarts: restartText };
}

/** IP, NODE, NOMINATED NODE, READINESS GATES. */
export function podWideCells(pod: KObject): string[] {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const ip = str(obj(objs(status.podIPs)[0]).ip) || str(status.podIP);
  const gates = objs(spec.readinessGates);
  let readinessGates = '<none>';
  if (gates.length > 0) {
    const conditions = objs(status.conditions);
    const trueCount = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
    readinessGates = `${trueCount}/${gates.length}`;
  }
  return [orNone(ip), orNone(str(spec.nodeName)), orNone(str(status.nominatedNodeName)), readinessGates];
}

