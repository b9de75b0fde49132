// Errors raised while patching. The HTTP layer turns them into a Kubernetes Status:
// PatchError carries the status code, ApplyConflictError becomes a 409 Conflict whose
// causes are of type FieldManagerConflict (one per conflicting field).

/** 400: the patch itself is malformed. 422: well-formed but cannot be applied to this object. */
export type PatchErrorCode = 400 | 422;

export class PatchError extends Error {
  readonly code: PatchErrorCode;
  constructor(code: PatchErrorCode, message: string) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
  }
}

export const malformed = (message: string): PatchError => new PatchError(400, message);
export const unprocessable = (message: string): PatchError => new PatchError(422, message);

/** One field that another manager owns and the apply would change. */
export interface ApplyConflict {
  /** The other manager's name, e.g. "kubectl-client-side-apply". */
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion?: string;
  subresource?: string;
  /** The field path as Kubernetes prints it, e.g. `.spec.replicas`. */
  field: string;
  /** The cause message, e.g. `conflict with "kubectl-client-side-apply" using apps/v1`. */
  message: string;
}

export class ApplyConflictError extends Error {
  readonly code = 409;
  readonly conflicts: ApplyConflict[];
  constructor(conflicts: ApplyConflict[]) {
    super(conflictMessage(conflicts));
    this.name = 'ApplyConflictError';
    this.conflicts = conflicts;
  }
}

/** How Kubernetes names a manager in conflict messages: Update managers carry their apiVersion. */
export function describeManager(m: { manager: string; operation: 'Apply' | 'Update'; apiVersion?: string; subresource?: string }): string {
  const name = JSON.stringify(m.manager);
  if (m.operation === 'Update') return `${name} using ${m.apiVersion ?? ''}`;
  if (m.subresource) return `${name} with subresource ${JSON.stringify(m.subresource)}`;
  return name;
}

function conflictMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1) {
    const [c] = conflicts as [ApplyConflict];
    return `Apply failed with 1 conflict: ${c.message}: ${c.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const who = describeManager(c);
    byManager.set(who, [...(byManager.get(who) ?? []), c.field]);
  }
  const lines: string[] = [];
  for (const who of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${who}:`);
    for (const field of byManager.get(who) ?? []) lines.push(`- ${field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
