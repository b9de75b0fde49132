// When a CertificateSigningRequest is deleted (kube-controller-manager's csrcleaner): once
// issued, denied or failed, an hour after that happened; still pending, a day after it was
// made. The certificate lives on in the agent that asked; the request is only its paper trail.
import type { KObject } from '../../api/object.ts';
import { csrConditions } from '../../api/kinds/certificatesigningrequest.ts';

export const FINISHED_TTL_MS = 60 * 60 * 1000;
export const PENDING_TTL_MS = 24 * 60 * 60 * 1000;

const time = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? undefined : t;
};

/** Milliseconds since the epoch when the request may go. */
export function deleteAt(csr: KObject): number {
  const created = time(csr.metadata.creationTimestamp) ?? 0;
  const cond = csrConditions(csr);
  const done = ['Denied', 'Failed', 'Approved'].map((t) => cond[t]).filter((c) => c !== undefined);
  const issued = typeof (csr.status as Record<string, unknown> | undefined)?.certificate === 'string';
  if (!issued && !cond.Denied && !cond.Failed) return created + PENDING_TTL_MS;
  const when = Math.max(created, ...done.map((c) => time(c!.lastUpdateTime) ?? time(c!.lastTransitionTime) ?? created));
  return when + FINISHED_TTL_MS;
}
