// The shapes the webhook dispatcher works with: what a write looks like to admission
// (kube-apiserver's admission.Attributes), the webhook entries of a configuration, and the
// narrow source of cluster state the dispatcher reads (configurations, namespaces, service
// endpoints), so matching and dispatch run in unit tests without a registry.
import type { KObject } from '../../../api/object.ts';
import type { ResourceInfo } from '../../../api/scheme.ts';
import type { UserInfo } from '../../authn/types.ts';
import type { LabelSelector } from '../../../api/validation/label-selector.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: Operation;
  resource: ResourceInfo;
  /** "status", "finalize"... undefined for the main resource. */
  subresource?: string;
  namespace?: string;
  name: string;
  /** The object being written (absent for DELETE). Mutating webhooks change it in place. */
  object?: KObject;
  /** The stored object (UPDATE and DELETE). */
  oldObject?: KObject;
  dryRun?: boolean;
  /** Who asked (a controller's own identity for in-process writes; unset: the API server itself). */
  user?: UserInfo;
  fieldManager?: string;
  /** Warnings from webhooks are appended here (sent as Warning headers). */
  warnings?: string[];
  /** The object's kind when it is not the resource's own (PodExecOptions for CONNECT, autoscaling/v1 Scale). */
  kind?: { group: string; version: string; kind: string };
  /** Already offered to webhooks in another shape (a /scale write's UPDATE of the main resource). */
  skip?: boolean;
  /** Defaults the object before the first webhook sees it (the kind's defaulting). */
  prepare?: (obj: KObject) => void;
}

export interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: '*' | 'Cluster' | 'Namespaced';
}

export interface ServiceReference { namespace: string; name: string; path?: string; port?: number }

export interface ClientConfig { url?: string; service?: ServiceReference; caBundle?: string }

/** One entry of webhooks[] (mutating or validating), defaulted by the kind's strategy. */
export interface Webhook {
  name: string;
  clientConfig: ClientConfig;
  rules?: Rule[];
  failurePolicy?: 'Fail' | 'Ignore';
  matchPolicy?: 'Exact' | 'Equivalent';
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  sideEffects?: string;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
  reinvocationPolicy?: 'Never' | 'IfNeeded';
}

/** A webhook with the configuration it came from (uid keeps two same-named hooks apart). */
export interface ConfiguredWebhook {
  configuration: string;
  /** `<configuration>/<index>`: unique across configurations. */
  uid: string;
  hook: Webhook;
}

export interface Endpoint { host: string; port: number }

export interface WebhookSource {
  /** Current configurations of one kind, any order. */
  configurations(kind: 'mutating' | 'validating'): Promise<KObject[]>;
  namespace(name: string): Promise<KObject | undefined>;
  /** A ready endpoint of a Service port (the port on the Service). */
  resolveService(namespace: string, name: string, port: number): Promise<Endpoint>;
}
