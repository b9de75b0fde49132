// The callbacks env resolution and volume set-up share: where ConfigMaps and Secrets come
// from (the agent's informer cache or a GET), and the node facts the downward API needs.
import type { KObject } from '../../api/object.ts';

/** Reads a namespaced ConfigMap or Secret; undefined (or a thrown 404) means it does not exist. */
export interface ObjectSource {
  getConfigMap(ns: string, name: string): Promise<KObject | undefined>;
  getSecret(ns: string, name: string): Promise<KObject | undefined>;
}

/** A ResourceList as the API writes it: `{ cpu: '2', memory: '8Gi' }`. */
export type ResourceList = Record<string, string | number>;

/** `type` is Normal or Warning, as on an Event. */
export type WarningSink = (reason: string, message: string) => void;

export interface EnvDeps extends ObjectSource {
  /** The Services of a namespace (called for the pod's namespace and for `default`). */
  listServices(ns: string): Promise<KObject[]>;
  /** The node's allocatable resources: the default for a limit a container does not set. */
  nodeAllocatable: ResourceList;
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  hostIPs?: string[];
  /** Told about envFrom keys skipped as invalid names (the kubelet's Warning event). */
  onWarning?: WarningSink;
}

export interface EnvVar {
  name: string;
  value: string;
}
