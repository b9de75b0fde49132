// TypeScript shapes of the CRI v1 messages in api.proto, as CriClient sends and receives
// them (proto-loader with keepCase false: snake_case fields become camelCase).
//
// Decoding choices (see client.ts LOADER_OPTIONS):
// - int64/uint64 come back as decimal strings (`Int64`): timestamps are nanoseconds since
//   the epoch (≈1.7e18, past Number's 2^53), so a number would silently lose digits. Use
//   nanosToMs / nanosToDate / int64ToNumber from client.ts. In requests a number is fine.
// - enums come back as their names ('CONTAINER_RUNNING'); requests may use names too.
// - every scalar is present with its proto3 default ('' / 0 / false / '0'); an absent
//   message field is null; repeated and map fields are always arrays / objects.
// Request types mark everything optional; response types mark what is always present.

/** int64/uint64 in a response: a decimal string. */
export type Int64 = string;
/** int64/uint64 in a request: a number (exact below 2^53) or a decimal string. */
export type Int64In = number | string;
export type StringMap = Record<string, string>;

// ---- enums (by name) ----
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type SecurityProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost';

// ---- version and status ----
export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  /** 'RuntimeReady' | 'NetworkReady' */
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface StatusResponse {
  status: { conditions: RuntimeCondition[] } | null;
  /** verbose only: JSON strings keyed 'config', 'golang', 'lastCNILoadStatus'... */
  info: StringMap;
}

// ---- small shared messages ----
export interface ImageSpec {
  image: string;
  annotations?: StringMap;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface Int64Value {
  value: Int64In;
}

// ---- pod sandbox config ----
export interface DNSConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

export interface PortMapping {
  protocol?: Protocol;
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
}

export interface IDMapping {
  hostId: number;
  containerId: number;
  length: number;
}

export interface NamespaceOption {
  /** POD (own netns, default) or NODE (hostNetwork) */
  network?: NamespaceMode;
  /** CONTAINER (default), POD (shareProcessNamespace) or NODE (hostPID) */
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
  usernsOptions?: { mode?: NamespaceMode; uids?: IDMapping[]; gids?: IDMapping[] };
}

export interface SELinuxOption {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface SecurityProfile {
  profileType?: SecurityProfileType;
  localhostRef?: string;
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: Int64In[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface LinuxPodSandboxConfig {
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: StringMap;
  overhead?: LinuxContainerResources;
  resources?: LinuxContainerResources;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** directory under which container log_path values are resolved */
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: StringMap;
  annotations?: StringMap;
  linux?: LinuxPodSandboxConfig;
}

// ---- pod sandbox responses ----
export interface PodSandboxMetadataOut {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadataOut | null;
  state: PodSandboxState;
  /** nanoseconds since the epoch */
  createdAt: Int64;
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: { namespaces: { options: NamespaceOptionOut | null } | null } | null;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}

export interface NamespaceOptionOut {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
  targetId: string;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus;
  /** verbose only: key 'info' holds a JSON document (pid, netns path, config...) */
  info: StringMap;
}

export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  labelSelector?: StringMap;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadataOut | null;
  state: PodSandboxState;
  createdAt: Int64;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}

// ---- container config ----
export interface HugepageLimit {
  /** e.g. '2MB', '1GB' */
  pageSize: string;
  limit: Int64In;
}

/**
 * cgroup settings. In requests use numbers; in ContainerStatus.resources they come back as
 * Int64 strings. 0 means "not set" for every numeric field (proto3).
 */
export interface LinuxContainerResources {
  cpuPeriod?: Int64In;
  cpuQuota?: Int64In;
  cpuShares?: Int64In;
  memoryLimitInBytes?: Int64In;
  oomScoreAdj?: Int64In;
  cpusetCpus?: string;
  cpusetMems?: string;
  hugepageLimits?: HugepageLimit[];
  unified?: StringMap;
  memorySwapLimitInBytes?: Int64In;
}

export interface Capability {
  addCapabilities?: string[];
  dropCapabilities?: string[];
  addAmbientCapabilities?: string[];
}

export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: Int64In[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface LinuxContainerConfig {
  resources?: LinuxContainerResources;
  securityContext?: LinuxContainerSecurityContext;
}

export interface ContainerMetadata {
  name: string;
  attempt?: number;
}

export interface Device {
  containerPath: string;
  hostPath: string;
  /** cgroup permissions: 'rwm' */
  permissions?: string;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  /** entrypoint (overrides the image's ENTRYPOINT) */
  command?: string[];
  /** arguments (override the image's CMD) */
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: StringMap;
  annotations?: StringMap;
  /** relative to the sandbox's logDirectory, e.g. 'app/0.log' */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
}

// ---- container responses ----
export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  podSandboxId?: string;
  labelSelector?: StringMap;
}

export interface ImageSpecOut {
  image: string;
  annotations: StringMap;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  image: ImageSpecOut | null;
  imageRef: string;
  state: ContainerState;
  createdAt: Int64;
  labels: StringMap;
  annotations: StringMap;
}

export interface MountOut {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  selinuxRelabel: boolean;
  propagation: MountPropagation;
}

export interface LinuxContainerResourcesOut {
  cpuPeriod: Int64;
  cpuQuota: Int64;
  cpuShares: Int64;
  memoryLimitInBytes: Int64;
  oomScoreAdj: Int64;
  cpusetCpus: string;
  cpusetMems: string;
  hugepageLimits: { pageSize: string; limit: Int64 }[];
  unified: StringMap;
  memorySwapLimitInBytes: Int64;
}

export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: ContainerState;
  /** nanoseconds since the epoch; '0' when it has not happened */
  createdAt: Int64;
  startedAt: Int64;
  finishedAt: Int64;
  exitCode: number;
  image: ImageSpecOut | null;
  imageRef: string;
  /** containerd: 'Completed' (exit 0), 'Error', 'OOMKilled', 'Unknown' once exited; '' otherwise */
  reason: string;
  message: string;
  labels: StringMap;
  annotations: StringMap;
  mounts: MountOut[];
  /** absolute path of the CRI-format log file ('' when no log_path was given) */
  logPath: string;
  resources: { linux: LinuxContainerResourcesOut | null } | null;
}

export interface ContainerStatusResponse {
  status: ContainerStatus;
  /** verbose only: key 'info' holds a JSON document (pid, sandboxID, runtimeSpec...) */
  info: StringMap;
}

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface ExecOptions {
  containerId: string;
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface AttachOptions {
  containerId: string;
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

// ---- stats ----
export interface UInt64ValueOut {
  value: Int64;
}

export interface FilesystemUsage {
  timestamp: Int64;
  fsId: { mountpoint: string } | null;
  usedBytes: UInt64ValueOut | null;
  inodesUsed: UInt64ValueOut | null;
}

export interface CpuUsage {
  timestamp: Int64;
  /** cumulative CPU time in ns */
  usageCoreNanoSeconds: UInt64ValueOut | null;
  /** averaged rate since the previous sample (containerd computes it; may be null on the first read) */
  usageNanoCores: UInt64ValueOut | null;
}

export interface MemoryUsage {
  timestamp: Int64;
  workingSetBytes: UInt64ValueOut | null;
  availableBytes: UInt64ValueOut | null;
  usageBytes: UInt64ValueOut | null;
  rssBytes: UInt64ValueOut | null;
  pageFaults: UInt64ValueOut | null;
  majorPageFaults: UInt64ValueOut | null;
}

export interface ContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number } | null; labels: StringMap; annotations: StringMap } | null;
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
  writableLayer: FilesystemUsage | null;
}

export interface ContainerStatsFilter {
  id?: string;
  podSandboxId?: string;
  labelSelector?: StringMap;
}

export interface NetworkInterfaceUsage {
  name: string;
  rxBytes: UInt64ValueOut | null;
  rxErrors: UInt64ValueOut | null;
  txBytes: UInt64ValueOut | null;
  txErrors: UInt64ValueOut | null;
}

export interface PodSandboxStats {
  attributes: { id: string; metadata: PodSandboxMetadataOut | null; labels: StringMap; annotations: StringMap } | null;
  linux: {
    cpu: CpuUsage | null;
    memory: MemoryUsage | null;
    network: { timestamp: Int64; defaultInterface: NetworkInterfaceUsage | null; interfaces: NetworkInterfaceUsage[] } | null;
    process: { timestamp: Int64; processCount: UInt64ValueOut | null } | null;
    containers: ContainerStats[];
  } | null;
}

export interface PodSandboxStatsFilter {
  id?: string;
  labelSelector?: StringMap;
}

// ---- images ----
export interface Image {
  /** the image id: the config digest, 'sha256:…' */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: Int64;
  uid: { value: Int64 } | null;
  username: string;
  spec: ImageSpecOut | null;
  pinned: boolean;
}

export interface ImageStatusResponse {
  /** null when the image is not present (not an error) */
  image: Image | null;
  info: StringMap;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64 'user:password' */
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}
