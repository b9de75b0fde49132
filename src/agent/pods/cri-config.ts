// A pod spec → the CRI configs containerd gets: PodSandboxConfig for the pod and
// ContainerConfig for each container. Pure: names, labels, resources, security and
// namespaces exactly as the kubelet's kuberuntime derives them.
import type { KObject } from '../../api/object.ts';
import { podQOSClass } from '../../api/kinds/pod-qos.ts';
import { isQuantity, parseQuantity } from '../../api/validation/index.ts';
import { expand, mappingFuncFor } from '../env/index.ts';
import type { Mount, NamespaceOption, PortMapping, ContainerConfig, LinuxContainerResources, PodSandboxConfig } from '../cri/types.ts';

type Json = Record<string, any>;

// The labels the kubelet puts on sandboxes and containers; we find our pods by them.
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
/** `init` or `regular`: init containers run first, in order. */
export const LABEL_CONTAINER_KIND = 'skiff.io/container-kind';
export const ANNOTATION_GRACE = 'io.kubernetes.pod.terminationGracePeriod';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';

const CPU_PERIOD = 100_000;
const MIN_SHARES = 2;

export interface SandboxOptions {
  logDirectory: string;
  cgroupParent: string;
  /** Node name, the hostname of hostNetwork pods. */
  nodeName: string;
  dns?: { servers: string[]; searches: string[]; options: string[] };
  attempt: number;
}

export function podLabels(pod: KObject): Record<string, string> {
  return {
    ...(pod.metadata.labels ?? {}),
    [LABEL_POD_NAME]: pod.metadata.name!,
    [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? 'default',
    [LABEL_POD_UID]: pod.metadata.uid!,
  };
}

export function hostNetwork(pod: KObject): boolean {
  return (pod.spec as Json | undefined)?.hostNetwork === true;
}

function namespaceOptions(spec: Json): NamespaceOption {
  return {
    network: spec.hostNetwork ? 'NODE' : 'POD',
    pid: spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: spec.hostIPC ? 'NODE' : 'POD',
  };
}

export function sandboxConfig(pod: KObject, o: SandboxOptions): PodSandboxConfig {
  const spec = (pod.spec ?? {}) as Json;
  const portMappings: PortMapping[] = [];
  for (const c of (spec.containers ?? []) as Json[]) {
    for (const p of (c.ports ?? []) as Json[]) {
      if (!p.hostPort) continue;
      portMappings.push({ protocol: p.protocol ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' });
    }
  }
  // runc cannot set a hostname without its own UTS namespace: hostNetwork pods keep the node's.
  const hostname = spec.hostNetwork ? '' : String(spec.hostname ?? pod.metadata.name).slice(0, 63).replace(/[-.]+$/, '');
  const sysctls: Record<string, string> = {};
  for (const s of (spec.securityContext?.sysctls ?? []) as Json[]) sysctls[s.name] = String(s.value);
  return {
    metadata: { name: pod.metadata.name!, uid: pod.metadata.uid!, namespace: pod.metadata.namespace ?? 'default', attempt: o.attempt },
    hostname,
    logDirectory: o.logDirectory,
    ...(o.dns ? { dnsConfig: o.dns } : {}),
    portMappings,
    labels: podLabels(pod),
    annotations: { ...(pod.metadata.annotations ?? {}), [ANNOTATION_GRACE]: String(spec.terminationGracePeriodSeconds ?? 30) },
    linux: {
      cgroupParent: o.cgroupParent,
      securityContext: {
        namespaceOptions: namespaceOptions(spec),
        ...(spec.securityContext?.runAsUser !== undefined ? { runAsUser: { value: String(spec.securityContext.runAsUser) } } : {}),
        supplementalGroups: (spec.securityContext?.supplementalGroups ?? []).map(String),
      },
      sysctls,
    },
  };
}

const milli = (q: unknown): number | undefined => (isQuantity(q) ? Math.round(parseQuantity(q as string) * 1000) : undefined);
const bytes = (q: unknown): number | undefined => (isQuantity(q) ? Math.round(parseQuantity(q as string)) : undefined);

/** cpu shares, quota and memory limit from requests/limits; oom_score_adj from the QoS class. */
export function linuxResources(pod: KObject, container: Json, nodeMemoryBytes: number): LinuxContainerResources {
  const req = container.resources?.requests ?? {};
  const lim = container.resources?.limits ?? {};
  const cpuReq = milli(req.cpu) ?? milli(lim.cpu);
  const cpuLim = milli(lim.cpu);
  const memLim = bytes(lim.memory);
  const memReq = bytes(req.memory) ?? memLim;
  const qos = podQOSClass((pod.spec ?? {}) as Json);
  let oomScoreAdj: number;
  if (qos === 'Guaranteed') oomScoreAdj = -997;
  else if (qos === 'BestEffort') oomScoreAdj = 1000;
  else {
    // The kubelet's burstable formula: more memory requested, less likely to be killed.
    const adj = 1000 - Math.floor((1000 * (memReq ?? 0)) / Math.max(1, nodeMemoryBytes));
    oomScoreAdj = Math.min(999, Math.max(2, adj));
  }
  return {
    cpuPeriod: String(CPU_PERIOD),
    cpuQuota: String(cpuLim ? Math.max(1000, Math.floor((cpuLim * CPU_PERIOD) / 1000)) : 0),
    cpuShares: String(cpuReq !== undefined ? Math.max(MIN_SHARES, Math.floor((cpuReq * 1024) / 1000)) : MIN_SHARES),
    memoryLimitInBytes: String(memLim ?? 0),
    oomScoreAdj: String(oomScoreAdj),
  };
}

export interface ContainerOptions {
  attempt: number;
  kind: 'init' | 'regular';
  image: string;
  envs: { name: string; value: string }[];
  mounts: Mount[];
  /** Relative to the sandbox's log directory. */
  logPath: string;
  nodeMemoryBytes: number;
}

export function containerConfig(pod: KObject, c: Json, o: ContainerOptions): ContainerConfig {
  // $(VAR) in command and args, expanded from the container's env as the kubelet does.
  const env = mappingFuncFor(new Map(o.envs.map((e) => [e.name, e.value])));
  const sc = (c.securityContext ?? {}) as Json;
  const podSc = ((pod.spec as Json | undefined)?.securityContext ?? {}) as Json;
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
  const spec = (pod.spec ?? {}) as Json;
  return {
    metadata: { name: c.name, attempt: o.attempt },
    image: { image: o.image },
    command: ((c.command ?? []) as string[]).map((s) => expand(s, env)),
    args: ((c.args ?? []) as string[]).map((s) => expand(s, env)),
    workingDir: c.workingDir ?? '',
    envs: o.envs.map((e) => ({ key: e.name, value: e.value })),
    mounts: o.mounts,
    labels: {
      [LABEL_POD_NAME]: pod.metadata.name!, [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? 'default',
      [LABEL_POD_UID]: pod.metadata.uid!, [LABEL_CONTAINER_NAME]: c.name, [LABEL_CONTAINER_KIND]: o.kind,
    },
    annotations: { [ANNOTATION_TERMINATION_MESSAGE_PATH]: c.terminationMessagePath ?? '/dev/termination-log' },
    logPath: o.logPath,
    stdin: c.stdin === true,
    stdinOnce: c.stdinOnce === true,
    tty: c.tty === true,
    linux: {
      resources: linuxResources(pod, c, o.nodeMemoryBytes),
      securityContext: {
        privileged: sc.privileged === true,
        namespaceOptions: namespaceOptions(spec),
        ...(runAsUser !== undefined ? { runAsUser: { value: String(runAsUser) } } : {}),
        ...(runAsGroup !== undefined ? { runAsGroup: { value: String(runAsGroup) } } : {}),
        readonlyRootfs: sc.readOnlyRootFilesystem === true,
        noNewPrivs: sc.allowPrivilegeEscalation === false,
        supplementalGroups: (podSc.supplementalGroups ?? []).map(String),
        ...(sc.capabilities ? { capabilities: { addCapabilities: sc.capabilities.add ?? [], dropCapabilities: sc.capabilities.drop ?? [] } } : {}),
      },
    },
  };
}
