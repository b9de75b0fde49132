// The files of the API-data volumes, as the kubelet's plugins compute them before the
// AtomicWriter projects them: configmap.MakePayload, secret.MakePayload,
// downwardapi.CollectData and projected's collectData.
import { posix } from 'node:path';
import type { KObject } from '../../api/object.ts';
import { decodeData, getObject, stringData } from '../env/resolve.ts';
import { extractFieldPathAsString } from '../env/fieldpath.ts';
import { resourceFieldValue } from '../env/resources.ts';
import { aggregateMessage } from './errors.ts';
import type { Payload, VolumeDeps } from './types.ts';

type Json = Record<string, any>;

/** The API's default for defaultMode (0644). */
export const DEFAULT_MODE = 0o644;
const DEFAULT_TOKEN_EXPIRATION = 3600;

/** An error with the kubelet's text; `notFound` marks a missing object (optional sources tolerate it). */
export class PayloadError extends Error {
  constructor(message: string, readonly notFound = false) {
    super(message);
  }
}

const modeOf = (m: unknown, dflt: number): number => (typeof m === 'number' ? m : dflt);

/** ConfigMap data (strings) and binaryData (base64) together. */
function configMapBytes(cm: KObject | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!cm) return out;
  for (const [k, v] of stringData(cm.data)) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of decodeData(cm.binaryData)) out.set(k, v);
  return out;
}

/** Items (key → path, mode) or, without items, every key at its own name. */
function makePayload(kind: 'configmap' | 'secret', data: Map<string, Buffer>, items: Json[] | undefined, defaultMode: number, optional: boolean): Payload {
  const payload: Payload = new Map();
  if (!items || items.length === 0) {
    for (const [k, v] of data) payload.set(k, { data: v, mode: defaultMode });
    return payload;
  }
  for (const it of items) {
    const v = data.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new PayloadError(kind === 'configmap' ? `configmap references non-existent config key: ${it.key}` : `references non-existent secret key: ${it.key}`);
    }
    payload.set(it.path, { data: v, mode: modeOf(it.mode, defaultMode) });
  }
  return payload;
}

async function fetchData(kind: 'configmap' | 'secret', deps: VolumeDeps, ns: string, name: string, optional: boolean): Promise<Map<string, Buffer>> {
  let obj: KObject | undefined;
  try {
    obj = await getObject(deps, kind, ns, name);
  } catch (err) {
    throw new PayloadError(`failed to get ${kind} ${ns}/${name}: ${(err as Error).message}`);
  }
  if (!obj) {
    if (optional) return new Map();
    throw new PayloadError(`${kind} "${name}" not found`, true);
  }
  return kind === 'configmap' ? configMapBytes(obj) : decodeData(obj.data);
}

/** A configMap volume (or projected configMap source, with the projected defaultMode). */
export async function configMapPayload(src: Json, pod: KObject, deps: VolumeDeps, defaultMode?: number): Promise<Payload> {
  const optional = src.optional === true;
  const data = await fetchData('configmap', deps, pod.metadata.namespace ?? 'default', src.name, optional);
  return makePayload('configmap', data, src.items, defaultMode ?? modeOf(src.defaultMode, DEFAULT_MODE), optional);
}

/** A secret volume (`secretName`) or projected secret source (`name`). */
export async function secretPayload(src: Json, pod: KObject, deps: VolumeDeps, defaultMode?: number): Promise<Payload> {
  const optional = src.optional === true;
  const data = await fetchData('secret', deps, pod.metadata.namespace ?? 'default', src.secretName ?? src.name, optional);
  return makePayload('secret', data, src.items, defaultMode ?? modeOf(src.defaultMode, DEFAULT_MODE), optional);
}

/** downwardapi.CollectData: every item is written (empty on error) and the errors aggregated. */
export function downwardAPIPayload(items: Json[] | undefined, pod: KObject, deps: VolumeDeps, defaultMode: number): Payload {
  const payload: Payload = new Map();
  const errs: string[] = [];
  for (const it of items ?? []) {
    let value = '';
    try {
      if (it.fieldRef) value = extractFieldPathAsString(pod, it.fieldRef.fieldPath);
      else if (it.resourceFieldRef) value = resourceFieldValue(it.resourceFieldRef, pod, undefined, deps.nodeAllocatable ?? {});
    } catch (err) {
      errs.push((err as Error).message);
    }
    payload.set(posix.normalize(it.path), { data: Buffer.from(value, 'utf8'), mode: modeOf(it.mode, defaultMode) });
  }
  if (errs.length > 0) throw new PayloadError(aggregateMessage(errs));
  return payload;
}

/** projected collectData: sources in order (later paths win), errors aggregated. */
export async function projectedPayload(src: Json, pod: KObject, deps: VolumeDeps): Promise<Payload> {
  const defaultMode = modeOf(src.defaultMode, DEFAULT_MODE);
  const payload: Payload = new Map();
  const errs: string[] = [];
  for (const s of (src.sources ?? []) as Json[]) {
    try {
      let part: Payload | undefined;
      if (s.configMap) part = await configMapPayload(s.configMap, pod, deps, defaultMode);
      else if (s.secret) part = await secretPayload(s.secret, pod, deps, defaultMode);
      else if (s.downwardAPI) part = downwardAPIPayload(s.downwardAPI.items, pod, deps, defaultMode);
      else if (s.serviceAccountToken) {
        const tp = s.serviceAccountToken as Json;
        if (!deps.serviceAccountToken) throw new PayloadError('no service account token source configured');
        const token = await deps.serviceAccountToken(tp.audience || undefined, tp.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION, pod);
        // The kubelet writes it 0600 when the pod has an fsGroup and lets volume ownership
        // make it 0640; without fsGroup support we keep defaultMode so the pod can read it.
        part = new Map([[tp.path, { data: Buffer.from(token, 'utf8'), mode: defaultMode }]]);
      }
      if (part) for (const [k, v] of part) payload.set(k, v);
    } catch (err) {
      errs.push((err as Error).message);
    }
  }
  if (errs.length > 0) throw new PayloadError(aggregateMessage(errs));
  return payload;
}
