// What the Endpoints and EndpointSlice controllers both need to know about a Service and
// its pods: which pods it selects, whether a pod belongs in its endpoints at all, whether
// it is ready, and which port number a service port's targetPort means on that pod.
import type { KObject } from '../../api/object.ts';
import { byNamespace, type IndexFunc } from '../../client/cache.ts';
import type { Informer } from '../../client/informer.ts';
import { obj, objs, str, type Json } from '../../api/kinds/access.ts';
import { selectorMatches as labelSelectorMatches } from '../../api/validation/index.ts';

/** Index name both controllers put on the shared pod and service informers. */
export const NAMESPACE_INDEX = 'skiff.endpoints/namespace';
export const namespaceIndex: IndexFunc = byNamespace;

export interface ServicePort {
  name: string;
  port: number;
  protocol: string;
  targetPort: number | string;
  appProtocol?: string;
}

/** The selector as a map, or undefined when the Service has none (its endpoints are someone else's). */
export function serviceSelector(svc: KObject): Record<string, string> | undefined {
  const sel = obj(svc.spec).selector;
  if (typeof sel !== 'object' || sel === null) return undefined;
  const entries = Object.entries(sel as Json).filter(([, v]) => typeof v === 'string') as [string, string][];
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** A Service selector is a plain label map: every label must match. */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return labelSelectorMatches({ matchLabels: selector }, labels);
}

export function servicePorts(svc: KObject): ServicePort[] {
  return objs(obj(svc.spec).ports).map((p) => ({
    name: str(p.name),
    port: typeof p.port === 'number' ? p.port : 0,
    protocol: str(p.protocol) || 'TCP',
    targetPort: typeof p.targetPort === 'number' || typeof p.targetPort === 'string' ? p.targetPort : (typeof p.port === 'number' ? p.port : 0),
    ...(typeof p.appProtocol === 'string' ? { appProtocol: p.appProtocol } : {}),
  }));
}

export const isHeadless = (svc: KObject): boolean => obj(svc.spec).clusterIP === 'None';
export const publishNotReady = (svc: KObject): boolean => obj(svc.spec).publishNotReadyAddresses === true;

/** The pod's primary IP ('' until it has one). */
export function podIP(pod: KObject): string {
  const status = obj(pod.status);
  return str(status.podIP) || str(objs(status.podIPs)[0]?.ip);
}

export function isPodReady(pod: KObject): boolean {
  return objs(obj(pod.status).conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

export const isTerminating = (pod: KObject): boolean => Boolean(pod.metadata.deletionTimestamp);

/**
 * Whether a pod belongs in a service's endpoints at all: it has an IP, it is not being
 * deleted (unless terminating pods are wanted), and it has not finished for good.
 */
export function shouldPodBeInEndpoints(pod: KObject, includeTerminating: boolean): boolean {
  if (!podIP(pod)) return false;
  if (!includeTerminating && isTerminating(pod)) return false;
  const phase = str(obj(pod.status).phase);
  const restartPolicy = str(obj(pod.spec).restartPolicy) || 'Always';
  if (restartPolicy === 'Never') return phase !== 'Failed' && phase !== 'Succeeded';
  if (restartPolicy === 'OnFailure') return phase !== 'Succeeded';
  return true;
}

/**
 * The container port a service port reaches on this pod: a number is taken as is, a name
 * is looked up among the pod's containers (and restartable init containers) with the same
 * protocol. Undefined when the pod has no port of that name.
 */
export function findPort(pod: KObject, sp: ServicePort): number | undefined {
  if (typeof sp.targetPort === 'number') return sp.targetPort > 0 ? sp.targetPort : undefined;
  const spec = obj(pod.spec);
  const containers = [...objs(spec.containers), ...objs(spec.initContainers).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of objs(c.ports)) {
      if (p.name === sp.targetPort && (str(p.protocol) || 'TCP') === sp.protocol && typeof p.containerPort === 'number') return p.containerPort;
    }
  }
  return undefined;
}

/** spec.hostname, when the pod's subdomain is this service (DNS A records per pod). */
export function podHostname(pod: KObject, svc: KObject): string | undefined {
  const spec = obj(pod.spec);
  const hostname = str(spec.hostname);
  if (!hostname || str(spec.subdomain) !== svc.metadata.name || pod.metadata.namespace !== svc.metadata.namespace) return undefined;
  return hostname;
}

export function podTargetRef(pod: KObject): Json {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

/** Pods in the service's namespace its selector picks (read from the shared pod cache). */
export function selectedPods(pods: Informer, svc: KObject): KObject[] {
  const selector = serviceSelector(svc);
  if (!selector) return [];
  return pods.byIndex(NAMESPACE_INDEX, svc.metadata.namespace ?? '').filter((p) => selectorMatches(selector, p.metadata.labels));
}

/** Keys (`ns/name`) of the services in the pod's namespace whose selectors pick it. */
export function servicesSelecting(services: Informer, pod: KObject): string[] {
  const keys: string[] = [];
  for (const svc of services.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')) {
    const selector = serviceSelector(svc);
    if (selector && selectorMatches(selector, pod.metadata.labels)) keys.push(`${svc.metadata.namespace}/${svc.metadata.name}`);
  }
  return keys;
}

/** The services a pod change concerns: those selecting it before or after. */
export function servicesForPodChange(services: Informer, oldPod: KObject | undefined, pod: KObject): Set<string> {
  const keys = new Set(servicesSelecting(services, pod));
  if (oldPod) for (const k of servicesSelecting(services, oldPod)) keys.add(k);
  return keys;
}

/** Service labels the derived objects carry, minus the ones the controller owns. */
export function serviceLabels(svc: KObject, reserved: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!reserved.includes(k)) out[k] = v;
  return out;
}

export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** Whether an update changed anything the endpoints are built from. */
export function podChangeMatters(oldPod: KObject, pod: KObject): boolean {
  const so = obj(oldPod.spec);
  const sn = obj(pod.spec);
  return JSON.stringify(oldPod.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})
    || podIP(oldPod) !== podIP(pod)
    || isPodReady(oldPod) !== isPodReady(pod)
    || isTerminating(oldPod) !== isTerminating(pod)
    || str(obj(oldPod.status).phase) !== str(obj(pod.status).phase)
    || so.nodeName !== sn.nodeName || so.hostname !== sn.hostname || so.subdomain !== sn.subdomain
    || oldPod.metadata.uid !== pod.metadata.uid;
}
