// The objects a simulated node writes: its Node (labels, capacity, conditions, nodeInfo)
// and its Lease. Pure builders; the simulator does the I/O.
import { createHash } from 'node:crypto';
import type { KObject } from '../../api/object.ts';
import { isoSeconds } from './lifecycle.ts';
import { isAlreadyExists, isNotFound, type ResourceInterface } from '../../client/types.ts';

export const SIM_KUBELET_VERSION = 'v1.32.0-skiff-sim';
export const SIM_RUNTIME_VERSION = 'simulated://0.1';
export const LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;

export interface NodeResources {
  cpu: string;
  memory: string;
  pods: string;
  ephemeralStorage: string;
}

export const DEFAULT_RESOURCES: NodeResources = { cpu: '8', memory: '32Gi', pods: '110', ephemeralStorage: '100Gi' };

export function nodeLabels(name: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
    'node.kubernetes.io/instance-type': 'simulated',
    type: 'simulated',
  };
}

/** Ready plus the three pressure conditions, all healthy. */
export function nodeConditions(transitionAt: number, heartbeatAt: number): Record<string, unknown>[] {
  const c = (type: string, status: string, reason: string, message: string) => ({
    type, status, reason, message, lastHeartbeatTime: isoSeconds(heartbeatAt), lastTransitionTime: isoSeconds(transitionAt),
  });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (simulated)'),
  ];
}

export function nodeStatus(name: string, hostIP: string, res: NodeResources, transitionAt: number, now: number): Record<string, unknown> {
  const capacity = { cpu: res.cpu, memory: res.memory, pods: res.pods, 'ephemeral-storage': res.ephemeralStorage };
  const id = createHash('sha256').update(name).digest('hex');
  return {
    capacity, allocatable: { ...capacity },
    conditions: nodeConditions(transitionAt, now),
    addresses: [{ type: 'InternalIP', address: hostIP }, { type: 'Hostname', address: name }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: id.slice(0, 32),
      systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
      bootID: id.slice(32, 64),
      kernelVersion: '6.1.0-skiff-sim',
      osImage: 'Skiff simulated node',
      containerRuntimeVersion: SIM_RUNTIME_VERSION,
      kubeletVersion: SIM_KUBELET_VERSION,
      kubeProxyVersion: SIM_KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

export function nodeObject(name: string, hostIP: string, res: NodeResources, now: number): KObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: nodeLabels(name), annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'skiff.io/simulated': 'true' } },
    spec: {},
    status: nodeStatus(name, hostIP, res, now, now),
  };
}

/** RFC 3339 with microseconds, as Lease's MicroTime fields want. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function leaseObject(nodeName: string, nodeUid: string | undefined, now: number): KObject {
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: {
      name: nodeName, namespace: LEASE_NAMESPACE,
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(now) },
  };
}

/** Renews a node's Lease (a merge patch), creating it if it is gone, as a kubelet does. */
export async function renewNodeLease(leases: ResourceInterface, nodeName: string, nodeUid: string | undefined, now: number): Promise<void> {
  try {
    await leases.patch(LEASE_NAMESPACE, nodeName, 'merge', {
      spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(now) },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await leases.create(leaseObject(nodeName, nodeUid, now));
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}
