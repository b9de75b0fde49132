// The Node a real agent registers and the status it reports: capacity and allocatable
// from the machine, addresses, node info, and the four conditions. Pure builders.
import type { KObject } from '../../api/object.ts';
import { isoSeconds } from '../sim/lifecycle.ts';
import { EVICTION, type MachineFacts, type Pressure } from './machine.ts';

export const KUBELET_VERSION = 'v1.32.0-skiff';
export const MAX_PODS = 110;

export interface NodeIdentity {
  name: string;
  nodeIP: string;
  kubeletPort: number;
  machine: MachineFacts;
  /** `containerd://1.6.20`, from CRI Version. */
  runtimeVersion: string;
  labels?: Record<string, string>;
}

export function nodeLabels(id: NodeIdentity): Record<string, string> {
  return {
    'kubernetes.io/hostname': id.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': id.machine.architecture,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': id.machine.architecture,
    'node.kubernetes.io/instance-type': 'skiff',
    ...id.labels,
  };
}

const ki = (bytes: number): string => `${Math.floor(bytes / 1024)}Ki`;

export function capacityOf(m: MachineFacts): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const capacity = { cpu: String(m.cpus), memory: ki(m.memoryBytes), pods: String(MAX_PODS), 'ephemeral-storage': ki(m.diskBytes) };
  // Allocatable keeps back what the eviction thresholds keep back, as the kubelet does.
  const allocatable = {
    ...capacity,
    memory: ki(Math.max(0, m.memoryBytes - EVICTION.memoryAvailableBytes)),
    'ephemeral-storage': String(Math.floor(m.diskBytes * (1 - EVICTION.diskAvailableFraction))),
  };
  return { capacity, allocatable };
}

export interface RuntimeHealth {
  ready: boolean;
  /** Why not, for the Ready condition's message. */
  message?: string;
}

type Condition = { type: string; status: string; reason: string; message: string; lastHeartbeatTime?: string; lastTransitionTime?: string };

export function nodeConditions(p: Pressure, runtime: RuntimeHealth): Condition[] {
  const c = (type: string, bad: boolean, okReason: string, okMsg: string, badReason: string, badMsg: string): Condition =>
    ({ type, status: bad ? 'True' : 'False', reason: bad ? badReason : okReason, message: bad ? badMsg : okMsg });
  return [
    c('MemoryPressure', p.memory, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'),
    c('DiskPressure', p.disk, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', 'KubeletHasDiskPressure', 'kubelet has disk pressure'),
    c('PIDPressure', p.pid, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available'),
    runtime.ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: runtime.message ?? 'container runtime is not ready' },
  ];
}

/** Carries each condition's lastTransitionTime over from `previous` unless its status changed. */
export function stampConditions(next: Condition[], previous: Condition[] | undefined, now: number): Condition[] {
  return next.map((c) => {
    const old = previous?.find((o) => o.type === c.type);
    const transition = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : isoSeconds(now);
    return { ...c, lastHeartbeatTime: isoSeconds(now), lastTransitionTime: transition };
  });
}

/** Conditions compared without their times: a heartbeat alone is not a change. */
export function conditionsDiffer(a: Condition[] | undefined, b: Condition[] | undefined): boolean {
  const key = (cs: Condition[] | undefined) => JSON.stringify((cs ?? []).map((c) => [c.type, c.status, c.reason, c.message]).sort());
  return key(a) !== key(b);
}

export function nodeStatus(id: NodeIdentity, conditions: Condition[]): Record<string, unknown> {
  const { capacity, allocatable } = capacityOf(id.machine);
  return {
    capacity, allocatable, conditions,
    addresses: [{ type: 'InternalIP', address: id.nodeIP }, { type: 'Hostname', address: id.name }],
    daemonEndpoints: { kubeletEndpoint: { Port: id.kubeletPort } },
    nodeInfo: {
      machineID: id.machine.machineID,
      systemUUID: id.machine.machineID,
      bootID: id.machine.bootID,
      kernelVersion: id.machine.kernelVersion,
      osImage: id.machine.osImage,
      containerRuntimeVersion: id.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: id.machine.architecture,
    },
  };
}

export function nodeObject(id: NodeIdentity, conditions: Condition[]): KObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: id.name, labels: nodeLabels(id), annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: {},
    status: nodeStatus(id, conditions),
  };
}
