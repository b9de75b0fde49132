// CONNECT admission for pods/exec, pods/attach and pods/portforward: before a stream is
// opened, the webhooks whose rules name CONNECT on these subresources see the request with
// its options object (PodExecOptions, PodAttachOptions, PodPortForwardOptions, as the
// kube-apiserver decodes them from the query) and may refuse it. Mutating webhooks are
// called too (kube-apiserver calls both for CONNECT); what they change is not used.
import { lookupResource } from '../../../api/scheme.ts';
import type { UserInfo } from '../../authn/types.ts';
import type { Registry } from '../../registry/registry.ts';
import { cacheSource } from './source.ts';
import { WebhookAdmission } from './dispatcher.ts';
import type { AdmissionAttributes } from './types.ts';

const PODS = lookupResource('', 'v1', 'pods')!;
const KINDS: Record<string, string> = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' };
const dispatchers = new WeakMap<Registry, WebhookAdmission>();

const flag = (q: URLSearchParams, name: string): boolean => ['true', '1'].includes((q.get(name) ?? '').toLowerCase());

/** The options object kube-apiserver builds from a connect request's query. */
export function connectOptions(subresource: string, q: URLSearchParams): Record<string, unknown> | undefined {
  const kind = KINDS[subresource];
  if (!kind) return undefined;
  const base = { kind, apiVersion: 'v1' };
  if (subresource === 'portforward') {
    const ports = q.getAll('ports').flatMap((p) => p.split(',')).map((p) => Number(p.trim())).filter((p) => Number.isInteger(p) && p > 0);
    return { ...base, ...(ports.length ? { ports } : {}) };
  }
  const container = q.get('container');
  const common = {
    ...base,
    ...(flag(q, 'stdin') ? { stdin: true } : {}), ...(flag(q, 'stdout') ? { stdout: true } : {}),
    ...(flag(q, 'stderr') ? { stderr: true } : {}), ...(flag(q, 'tty') ? { tty: true } : {}),
    ...(container ? { container } : {}),
  };
  return subresource === 'exec' ? { ...common, command: q.getAll('command') } : common;
}

/** Throws the webhook's refusal (or a failed call under failurePolicy Fail) for a CONNECT request. */
export async function admitConnect(registry: Registry, req: { subresource: string; namespace: string; name: string; query: URLSearchParams; user?: UserInfo }): Promise<void> {
  const object = connectOptions(req.subresource, req.query);
  if (!object) return;
  let dispatcher = dispatchers.get(registry);
  if (!dispatcher) dispatchers.set(registry, dispatcher = new WebhookAdmission(cacheSource(registry)));
  const a: AdmissionAttributes = {
    operation: 'CONNECT', resource: PODS, subresource: req.subresource, namespace: req.namespace, name: req.name,
    object: object as AdmissionAttributes['object'], user: req.user, kind: { group: '', version: 'v1', kind: object.kind as string },
  };
  await dispatcher.mutate(a);
  await dispatcher.validate(a);
}
