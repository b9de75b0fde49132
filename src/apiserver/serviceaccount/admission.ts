// The ServiceAccount admission plugin (kube-apiserver's plugin/pkg/admission/serviceaccount),
// on pod create: the pod runs as `default` unless it names an account; the account must
// exist; its imagePullSecrets are copied to a pod that has none; and unless
// automountServiceAccountToken is false (on the pod, else on the account) every container
// and init container gets the `kube-api-access-<random>` projected volume (a bound token,
// the cluster CA, the namespace) at /var/run/secrets/kubernetes.io/serviceaccount.
import type { KObject } from '../../api/object.ts';
import { forbidden } from '../errors.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const API_ACCESS_VOLUME_PREFIX = 'kube-api-access-';
export const API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

type Json = Record<string, any>;

export interface ServiceAccountSource {
  get(namespace: string, name: string): Promise<KObject | undefined>;
}

export interface ServiceAccountAdmissionOptions {
  /**
   * How often to look again for `default` before refusing (the serviceaccount controller
   * creates it moments after a namespace appears); kube-apiserver tries 10 times, 100-200 ms apart.
   */
  defaultAttempts?: number;
  retryDelayMs?: () => number;
  /** Five characters for the volume name; inject in tests. */
  randomSuffix?: () => string;
}

/** The projected volume kube-apiserver adds (TokenVolumeSource), under `name`. */
export function apiAccessVolume(name: string): Json {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}

async function lookUp(source: ServiceAccountSource, ns: string, name: string, opts: ServiceAccountAdmissionOptions): Promise<KObject | undefined> {
  const attempts = name === DEFAULT_SERVICE_ACCOUNT ? opts.defaultAttempts ?? 10 : 1;
  const delay = opts.retryDelayMs ?? (() => 100 + Math.floor(Math.random() * 100));
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, delay()));
    const sa = await source.get(ns, name);
    if (sa) return sa;
  }
  return undefined;
}

/** Mutates a pod being created in `namespace`; throws 403 when its service account does not exist. */
export async function admitPodServiceAccount(pod: KObject, namespace: string, source: ServiceAccountSource, opts: ServiceAccountAdmissionOptions = {}): Promise<void> {
  const spec = (pod.spec ??= {}) as Json;
  // Static pods mirrored from a node are left alone.
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
  const name = (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName)
    || (typeof spec.serviceAccount === 'string' && spec.serviceAccount) || DEFAULT_SERVICE_ACCOUNT;
  spec.serviceAccountName = name;
  const podName = pod.metadata.name ?? pod.metadata.generateName ?? '';

  const sa = await lookUp(source, namespace, name, opts);
  if (!sa) {
    throw forbidden(`pods "${podName}" is forbidden: error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`, { name: podName, kind: 'pods' });
  }

  const automount = typeof spec.automountServiceAccountToken === 'boolean' ? spec.automountServiceAccountToken
    : typeof (sa as Json).automountServiceAccountToken === 'boolean' ? (sa as Json).automountServiceAccountToken : true;
  if (automount) mountApiAccess(spec, opts.randomSuffix ?? randomSuffix);

  const pullSecrets = (sa as Json).imagePullSecrets;
  if ((!Array.isArray(spec.imagePullSecrets) || spec.imagePullSecrets.length === 0) && Array.isArray(pullSecrets) && pullSecrets.length) {
    spec.imagePullSecrets = pullSecrets.map((s: Json) => ({ name: s.name }));
  }
}

/** kube-apiserver's mountServiceAccountToken: reuse a kube-api-access-* volume, else add one if any container needs it. */
function mountApiAccess(spec: Json, suffix: () => string): void {
  const volumes: Json[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  const existing = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(API_ACCESS_VOLUME_PREFIX));
  const volumeName: string = existing?.name ?? API_ACCESS_VOLUME_PREFIX + suffix();
  let needed = false;
  for (const key of ['initContainers', 'containers']) {
    const containers = spec[key];
    if (!Array.isArray(containers)) continue;
    for (const c of containers as Json[]) {
      if (typeof c !== 'object' || c === null) continue;
      const mounts: Json[] = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
      if (mounts.some((m) => m?.mountPath === API_TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: API_TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (!existing && needed) spec.volumes = [...volumes, apiAccessVolume(volumeName)];
}
