// fieldRef: pod fields as the downward API exposes them. `extractFieldPathAsString` is
// k8s.io/kubernetes pkg/fieldpath (what downward API volumes use: metadata only);
// `podFieldValue` is the kubelet's podFieldSelectorRuntimeValue (env: also spec.nodeName,
// spec.serviceAccountName and the pod/host IPs the agent knows).
import type { KObject } from '../../api/object.ts';

type Json = Record<string, any>;

export interface ObjectFieldSelector {
  apiVersion?: string;
  fieldPath: string;
}

export interface PodIPs {
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  hostIPs?: string[];
}

/** `metadata.labels['app']` → ['metadata.labels', 'app']; undefined when not subscripted. */
export function splitMaybeSubscriptedPath(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const i = s.indexOf("['");
  if (i <= 0) return undefined;
  return [s.slice(0, i), s.slice(i + 2)];
}

/** Go's %q for a string: what FormatMap writes for each label or annotation value. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xad) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Labels or annotations as the downward API writes them: sorted `key="value"` lines. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m![k]!)}`)
    .join('\n');
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function isQualifiedName(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash >= 0 && slash > 253) return false;
  return QUALIFIED_NAME.test(s);
}

/** pkg/fieldpath ExtractFieldPathAsString for a pod: metadata fields only. */
export function extractFieldPathAsString(pod: KObject, fieldPath: string): string {
  const md = pod.metadata;
  const sub = splitMaybeSubscriptedPath(fieldPath);
  if (sub) {
    const [path, key] = sub;
    if (path === 'metadata.annotations' || path === 'metadata.labels') {
      const check = path === 'metadata.annotations' ? key.toLowerCase() : key;
      if (!isQualifiedName(check)) throw new Error(`invalid key subscript in ${fieldPath}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
      return (path === 'metadata.annotations' ? md.annotations : md.labels)?.[key] ?? '';
    }
    throw new Error(`fieldPath "${fieldPath}" does not support subscript`);
  }
  switch (fieldPath) {
    case 'metadata.annotations':
      return formatMap(md.annotations);
    case 'metadata.labels':
      return formatMap(md.labels);
    case 'metadata.name':
      return md.name ?? '';
    case 'metadata.namespace':
      return md.namespace ?? '';
    case 'metadata.uid':
      return md.uid ?? '';
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

const ENV_FIELD_LABELS = new Set([
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid',
  'spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName',
  'status.phase', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
]);

/** pkg/api/v1/pod ConvertDownwardAPIFieldLabel: the version and path must be supported. */
export function convertDownwardAPIFieldLabel(apiVersion: string | undefined, fieldPath: string): string {
  if ((apiVersion ?? 'v1') !== 'v1') throw new Error(`unsupported pod version: ${apiVersion}`);
  const sub = splitMaybeSubscriptedPath(fieldPath);
  if (sub) {
    if (sub[0] === 'metadata.annotations' || sub[0] === 'metadata.labels') return fieldPath;
    throw new Error(`field label does not support subscript: ${fieldPath}`);
  }
  if (fieldPath === 'spec.host') return 'spec.nodeName';
  if (!ENV_FIELD_LABELS.has(fieldPath)) throw new Error(`field label not supported: ${fieldPath}`);
  return fieldPath;
}

/** The kubelet's podFieldSelectorRuntimeValue: a fieldRef's value for an env var. */
export function podFieldValue(fs: ObjectFieldSelector, pod: KObject, ips: PodIPs): string {
  const path = convertDownwardAPIFieldLabel(fs.apiVersion, fs.fieldPath);
  const spec = (pod.spec ?? {}) as Json;
  const podIPs = ips.podIPs?.length ? ips.podIPs : ips.podIP ? [ips.podIP] : [];
  const hostIPs = ips.hostIPs?.length ? ips.hostIPs : ips.hostIP ? [ips.hostIP] : [];
  switch (path) {
    case 'spec.nodeName':
      return spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return hostIPs[0] ?? '';
    case 'status.hostIPs':
      return hostIPs.join(',');
    case 'status.podIP':
      return podIPs[0] ?? '';
    case 'status.podIPs':
      return podIPs.join(',');
  }
  return extractFieldPathAsString(pod, path);
}
