// The FailedScheduling message, worded as kube-scheduler words it:
// "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {a: b}.
//  preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod."
// Reasons are counted over nodes and the "count reason" strings sorted as strings.
import type { Status } from './framework/status.ts';

/** "3 Insufficient cpu" strings, sorted as Kubernetes sorts them. */
export function reasonHistogram(statuses: Iterable<Status>): string[] {
  const counts = new Map<string, number>();
  for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort();
}

const sentence = (s: string) => (s.endsWith('.') ? ` ${s}` : ` ${s}.`);

export function fitErrorMessage(
  numAllNodes: number, statuses: Iterable<Status>, opts: { preFilter?: string; postFilter?: string } = {},
): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (opts.preFilter) {
    // PreFilter rejected the pod for every node at once: one reason, not N copies.
    msg += sentence(opts.preFilter);
  } else {
    const reasons = reasonHistogram(statuses);
    if (reasons.length) msg += sentence(reasons.join(', '));
  }
  if (opts.postFilter) msg += sentence(opts.postFilter);
  return msg;
}
