// The patch flavours the API server accepts, as pure functions on plain JSON.

export { applyJsonPatch } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { applyStrategicMergePatch } from './strategic-merge-patch.ts';
export { applyServerSide } from './server-side-apply.ts';
export type { ApplyArgs } from './server-side-apply.ts';
export { updateManagedFields } from './update-managed-fields.ts';
export type { UpdateManagedFieldsArgs } from './update-managed-fields.ts';
export { FieldSet } from './field-set.ts';
export { fieldSetOf } from './field-set-of.ts';
export { formatPath } from './path-element.ts';
export { PatchError, ApplyConflictError } from './errors.ts';
export type { ApplyConflict, PatchErrorCode } from './errors.ts';
export { diffFields } from './field-diff.ts';
export type { FieldDiff } from './field-diff.ts';
