// Defaults of a PodSpec as Kubernetes' defaulters apply them, to Pods and to pod
// templates alike. Pod-only defaults (admission plugins' work) live in pod.ts.
import { child, obj, objs, setDefault, type Json } from './access.ts';

const VOLUME_SOURCES_WITH_MODE = ['secret', 'configMap', 'downwardAPI', 'projected'];

export function defaultPodSpec(spec: Json): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  for (const c of [...objs(spec.containers), ...objs(spec.initContainers), ...objs(spec.ephemeralContainers)]) {
    defaultContainer(c, spec.hostNetwork === true);
  }
  for (const v of objs(spec.volumes)) defaultVolume(v);
}

/** "nginx" and "nginx:latest" are pulled every time; a pinned tag or digest only if missing. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tag = colon > lastSlash ? image.slice(colon + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Json, hostNetwork: boolean): void {
  if (typeof c.image === 'string') setDefault(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  for (const p of objs(c.ports)) {
    setDefault(p, 'protocol', 'TCP');
    // With the host's network the container port is the host port.
    if (hostNetwork && p.containerPort !== undefined) setDefault(p, 'hostPort', p.containerPort);
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (c[probe] !== undefined) defaultProbe(obj(c[probe]));
  }
  const lifecycle = obj(c.lifecycle);
  for (const hook of ['postStart', 'preStop']) {
    if (lifecycle[hook] !== undefined) defaultHandler(obj(lifecycle[hook]));
  }
  for (const e of objs(c.env)) {
    const fieldRef = obj(e.valueFrom).fieldRef;
    if (fieldRef !== undefined) setDefault(obj(fieldRef), 'apiVersion', 'v1');
  }
}

function defaultProbe(p: Json): void {
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  defaultHandler(p);
}

function defaultHandler(h: Json): void {
  if (h.httpGet !== undefined) {
    const get = obj(h.httpGet);
    setDefault(get, 'path', '/');
    setDefault(get, 'scheme', 'HTTP');
  }
}

function defaultVolume(v: Json): void {
  const sources = Object.keys(v).filter((k) => k !== 'name' && v[k] !== undefined && v[k] !== null);
  // A volume with no source is an emptyDir.
  if (sources.length === 0) v.emptyDir = {};
  for (const kind of VOLUME_SOURCES_WITH_MODE) {
    if (v[kind] !== undefined) setDefault(child(v, kind), 'defaultMode', 420);
  }
}
