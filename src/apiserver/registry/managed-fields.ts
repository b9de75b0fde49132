// Records which manager owns which fields on every ordinary write (operation Update),
// so that server-side apply can report conflicts against earlier writers.
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { groupVersion } from '../../api/scheme.ts';
import { schemaForKind } from '../../api/openapi/index.ts';
import { updateManagedFields } from '../patch/index.ts';

export interface ManagedFieldsArgs {
  r: ResourceInfo;
  old: KObject | undefined;
  updated: KObject;
  /** Undefined for writes that bring their own managedFields (server-side apply). */
  manager: string | undefined;
  now: string;
  subresource: string | undefined;
}

export function recordManagedFields(args: ManagedFieldsArgs): void {
  const { r, old, updated, manager } = args;
  if (!manager) {
    if (!updated.metadata.managedFields?.length && old?.metadata.managedFields) {
      // A copy: `old` may be the watch cache's shared object (guaranteedUpdate).
      updated.metadata.managedFields = structuredClone(old.metadata.managedFields);
    }
    return;
  }
  updateManagedFields({
    old, updated, manager, operation: 'Update', apiVersion: groupVersion(r), now: args.now,
    subresource: args.subresource === 'binding' ? undefined : args.subresource,
    schema: schemaForKind(r.group, r.version, r.kind),
  });
}
