// A container's environment exactly as the kubelet's makeEnvironmentVariables builds it.
//
// Precedence (later wins): service link variables < envFrom (in order) < env (in order).
// `env[].value` is expanded against everything defined before it and the service
// variables; valueFrom values are never expanded. The kubelet returns its map in random
// order; we return service variables first, then envFrom, then env, each name once, at
// the position where its winning value was set.
import type { KObject } from '../../api/object.ts';
import { isNotFound } from '../../client/types.ts';
import { expand, mappingFuncFor } from './expansion.ts';
import { podFieldValue } from './fieldpath.ts';
import { resourceFieldValue } from './resources.ts';
import { serviceEnv } from './service-env.ts';
import type { EnvDeps, EnvVar, ObjectSource } from './types.ts';

type Json = Record<string, any>;

/** Why a container's config could not be built: the pod worker reports CreateContainerConfigError. */
export class EnvError extends Error {
  override name = 'EnvError';
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

// The (non-relaxed) C_IDENTIFIER-ish rule of validation.IsEnvVarName.
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
export const isEnvVarName = (s: string): boolean => ENV_NAME.test(s) && s !== '.' && s !== '..' && !s.startsWith('..');

/** Decodes the base64 values of a Secret's `data` (or a ConfigMap's `binaryData`). */
export function decodeData(data: unknown): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) out.set(k, Buffer.from(String(v ?? ''), 'base64'));
  }
  return out;
}

export function stringData(data: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (data && typeof data === 'object') for (const [k, v] of Object.entries(data as Record<string, unknown>)) out.set(k, String(v ?? ''));
  return out;
}

type Kind = 'configmap' | 'secret';

/**
 * Gets a ConfigMap or Secret through `src`, undefined when it does not exist (the source
 * answered undefined or threw a 404); other errors propagate.
 */
export async function getObject(src: ObjectSource, kind: Kind, ns: string, name: string): Promise<KObject | undefined> {
  try {
    return await (kind === 'configmap' ? src.getConfigMap(ns, name) : src.getSecret(ns, name));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The values of a ConfigMap's `data` or a Secret's decoded `data`, as strings. */
function values(kind: Kind, obj: KObject): Map<string, string> {
  if (kind === 'configmap') return stringData(obj.data);
  const out = new Map<string, string>();
  for (const [k, v] of decodeData(obj.data)) out.set(k, v.toString('utf8'));
  return out;
}

const KIND_NAME: Record<Kind, string> = { configmap: 'ConfigMap', secret: 'Secret' };

/** The environment for `container` of `pod`, in the kubelet's precedence. Throws EnvError. */
export async function resolveEnv(pod: KObject, container: Json, deps: EnvDeps): Promise<EnvVar[]> {
  const ns = pod.metadata.namespace ?? 'default';
  const spec = (pod.spec ?? {}) as Json;
  const cache = new Map<string, Map<string, string> | null>();

  // One fetch per object per call, as the kubelet's local maps do. null = not found.
  const lookup = async (kind: Kind, name: string): Promise<Map<string, string> | null> => {
    const key = `${kind}/${name}`;
    if (!cache.has(key)) {
      let obj: KObject | undefined;
      try {
        obj = await getObject(deps, kind, ns, name);
      } catch (err) {
        throw new EnvError(`failed to get ${kind} ${ns}/${name}: ${(err as Error).message}`, { cause: err });
      }
      cache.set(key, obj ? values(kind, obj) : null);
    }
    return cache.get(key)!;
  };

  let svcVars: EnvVar[];
  try {
    svcVars = await serviceEnv(ns, spec.enableServiceLinks !== false, deps.listServices);
  } catch (err) {
    throw new EnvError('failed to list services when setting up env vars', { cause: err });
  }
  const serviceMap = new Map(svcVars.map((v) => [v.name, v.value]));
  // tmpEnv: envFrom then env. Re-setting a name moves it to the end, like a fresh insert.
  const tmpEnv = new Map<string, string>();
  const set = (k: string, v: string): void => {
    tmpEnv.delete(k);
    tmpEnv.set(k, v);
  };

  for (const ef of (container.envFrom ?? []) as Json[]) {
    const ref = ef.configMapRef ?? ef.secretRef;
    if (!ref) continue;
    const kind: Kind = ef.configMapRef ? 'configmap' : 'secret';
    const data = await lookup(kind, ref.name);
    if (!data) {
      if (ref.optional === true) continue;
      throw new EnvError(`${kind} "${ref.name}" not found`);
    }
    const invalid: string[] = [];
    for (const [k0, v] of data) {
      const k = (ef.prefix ?? '') + k0;
      if (!isEnvVarName(k)) invalid.push(k);
      else set(k, v);
    }
    if (invalid.length > 0) {
      deps.onWarning?.(
        'InvalidEnvironmentVariableNames',
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${kind} ${ns}/${ref.name} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  const mapping = mappingFuncFor(tmpEnv, serviceMap);
  for (const ev of (container.env ?? []) as Json[]) {
    let value: string = ev.value ?? '';
    if (value !== '') {
      value = expand(value, mapping);
    } else if (ev.valueFrom) {
      const vf = ev.valueFrom as Json;
      try {
        if (vf.fieldRef) {
          value = podFieldValue(vf.fieldRef, pod, deps);
        } else if (vf.resourceFieldRef) {
          value = resourceFieldValue(vf.resourceFieldRef, pod, container, deps.nodeAllocatable);
        } else if (vf.configMapKeyRef || vf.secretKeyRef) {
          const kind: Kind = vf.configMapKeyRef ? 'configmap' : 'secret';
          const ref = (vf.configMapKeyRef ?? vf.secretKeyRef) as Json;
          const optional = ref.optional === true;
          const data = await lookup(kind, ref.name);
          if (!data) {
            if (optional) continue;
            throw new EnvError(`${kind} "${ref.name}" not found`);
          }
          const v = data.get(ref.key);
          if (v === undefined) {
            if (optional) continue;
            throw new EnvError(`couldn't find key ${ref.key} in ${KIND_NAME[kind]} ${ns}/${ref.name}`);
          }
          value = v;
        }
      } catch (err) {
        if (err instanceof EnvError) throw err;
        throw new EnvError((err as Error).message, { cause: err });
      }
    }
    set(ev.name, value);
  }

  const result: EnvVar[] = [];
  for (const v of svcVars) if (!tmpEnv.has(v.name)) result.push(v);
  for (const [name, value] of tmpEnv) result.push({ name, value });
  return result;
}
