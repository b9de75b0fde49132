// What volume set-up needs from the agent, and what it hands back to the pod worker.
import type { KObject } from '../../api/object.ts';
import type { ObjectSource, ResourceList } from '../env/types.ts';

export type { ObjectSource, ResourceList } from '../env/types.ts';

export interface VolumeDeps extends ObjectSource {
  /** The node's name (kept for messages and future plugins; the downward API volume does not need it). */
  nodeName?: string;
  /**
   * A token for the pod's service account (a TokenRequest bound to the pod), for
   * projected serviceAccountToken sources. `audience` undefined = the API server's.
   */
  serviceAccountToken?(audience: string | undefined, expirationSeconds: number, pod: KObject): Promise<string>;
  /**
   * Node allocatable: the default limits for downward API resourceFieldRef items, and the
   * cap on memory-backed emptyDir size. Without it tmpfs gets the kernel default (half of RAM).
   */
  nodeAllocatable?: ResourceList;
}

/** Plugin directory names under `volumes/`, as the kubelet spells them. */
export type PluginDir =
  | 'kubernetes.io~empty-dir'
  | 'kubernetes.io~configmap'
  | 'kubernetes.io~secret'
  | 'kubernetes.io~downward-api'
  | 'kubernetes.io~projected'
  | 'kubernetes.io~host-path';

export interface VolumeInfo {
  /** Where the volume is on the host: under the pod dir, or the hostPath itself. */
  hostPath: string;
  /** Mounted read-only into every container whatever volumeMounts say (API data volumes). */
  readOnly: boolean;
  plugin: PluginDir;
}

export type PodVolumeMap = Map<string, VolumeInfo>;

/** One file of an AtomicWriter payload: path relative to the volume → bytes and mode. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

export type Payload = Map<string, FileProjection>;
