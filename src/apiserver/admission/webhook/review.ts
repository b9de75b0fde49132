// The AdmissionReview a webhook receives, and the checks on the one it sends back
// (admission.k8s.io/v1 and v1beta1 have the same shape). A malformed answer is a CallError:
// like an unreachable webhook, it is subject to the webhook's failurePolicy.
import type { KObject } from '../../../api/object.ts';
import { CallError } from './client.ts';
import type { AdmissionAttributes } from './types.ts';

export const SUPPORTED_REVIEW_VERSIONS = ['v1', 'v1beta1'];

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code?: number; message?: string; reason?: string; details?: Record<string, unknown> };
  patch?: string;
  patchType?: string;
  warnings?: string[];
}

/** Who the request came from; in-process writers are the API server itself. */
function userInfoOf(a: AdmissionAttributes): Record<string, unknown> {
  const u = a.user ?? { name: 'system:apiserver', groups: ['system:authenticated', 'system:masters'] };
  return { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}

function optionsOf(a: AdmissionAttributes): Record<string, unknown> | null {
  if (a.operation === 'CONNECT') return null; // the object is the options (PodExecOptions...)
  const kind = a.operation === 'CREATE' ? 'CreateOptions' : a.operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions';
  const opts: Record<string, unknown> = { kind, apiVersion: 'meta.k8s.io/v1' };
  if (a.dryRun) opts.dryRun = ['All'];
  if (a.fieldManager && a.operation !== 'DELETE') opts.fieldManager = a.fieldManager;
  return opts;
}

export function reviewRequest(version: string, uid: string, a: AdmissionAttributes, object: KObject | undefined): Record<string, unknown> {
  const r = a.resource;
  const kind = a.kind ?? { group: r.group, version: r.version, kind: r.kind };
  const resource = { group: r.group, version: r.version, resource: r.resource };
  return {
    apiVersion: `admission.k8s.io/${version}`,
    kind: 'AdmissionReview',
    request: {
      uid, kind, resource,
      ...(a.subresource ? { subResource: a.subresource, requestSubResource: a.subresource } : {}),
      requestKind: kind, requestResource: resource,
      name: a.name,
      ...(r.namespaced && a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: userInfoOf(a),
      object: object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: Boolean(a.dryRun),
      options: optionsOf(a),
    },
  };
}

/** The response part of a webhook's answer, checked against the request. */
export function responseOf(answer: unknown, version: string, uid: string): AdmissionResponse {
  const bad = (msg: string): never => { throw new CallError(`received invalid webhook response: ${msg}`); };
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) return bad('the response is not a JSON object');
  const review = answer as { apiVersion?: unknown; kind?: unknown; response?: unknown };
  const want = `admission.k8s.io/${version}`;
  if (review.apiVersion !== want || review.kind !== 'AdmissionReview') {
    return bad(`expected webhook response of ${want}, Kind=AdmissionReview, got ${String(review.apiVersion)}, Kind=${String(review.kind)}`);
  }
  const resp = review.response as Partial<AdmissionResponse> | undefined;
  if (!resp || typeof resp !== 'object') return bad('webhook response was absent');
  if (resp.uid !== uid) return bad(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(resp.uid ?? '')}`);
  if (typeof resp.allowed !== 'boolean') return bad('response.allowed must be a boolean');
  return resp as AdmissionResponse;
}
