// Pod volumes for the node agent: set-up, in-place updates, container mounts, tear-down.
export { PodVolumes } from './pod-volumes.ts';
export type { PodVolumesOptions } from './pod-volumes.ts';
export { VolumeError, aggregateMessage } from './errors.ts';
export { containerMounts, prepareSubPath, translatePropagation, expandSubPathExpr } from './mounts.ts';
export type { ContainerMountOptions } from './mounts.ts';
export { atomicWrite, validatePayloadPath, DATA_DIR_NAME } from './atomic-writer.ts';
export { checkHostPathType } from './hostpath.ts';
export type { HostPathType } from './hostpath.ts';
export { emptyDirMemorySize, podMemoryLimit } from './memory-size.ts';
export { SystemMounter, parseMountInfo } from './mounter.ts';
export type { Mounter, MountInfo } from './mounter.ts';
export { writeEtcHosts, etcHostsContent, podHostnameAndDomain } from './etc-hosts.ts';
export type { EtcHostsOptions } from './etc-hosts.ts';
export type { FileProjection, Payload, PluginDir, PodVolumeMap, VolumeDeps, VolumeInfo } from './types.ts';
