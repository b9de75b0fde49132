// Dynamic admission webhooks: what the registry calls. See README.md.
import type { KObject } from '../../../api/object.ts';
import type { ResourceInfo } from '../../../api/scheme.ts';
import type { UserInfo } from '../../authn/types.ts';
import type { AdmissionAttributes, Operation } from './types.ts';
import { isScaleAdmitted } from './scale.ts';

export { WebhookAdmission } from './dispatcher.ts';
export { cacheSource } from './source.ts';
export { mutateScale, scaleAdmitted, scaleView, validateScale } from './scale.ts';
export { admitConnect } from './connect.ts';
export type { AdmissionAttributes, WebhookSource } from './types.ts';

interface WriteLike {
  dryRun?: boolean;
  user?: UserInfo;
  fieldManager?: string;
  warnings?: string[];
  subresource?: string;
}

/** The admission attributes of a registry write. `defaults` re-defaults what webhooks change. */
export function writeAttributes(
  operation: Operation, r: ResourceInfo, ns: string | undefined, name: string, opts: WriteLike,
  object: KObject | undefined, oldObject: KObject | undefined, defaults?: { defaults?(obj: KObject): void },
): AdmissionAttributes {
  return {
    operation, resource: r, subresource: opts.subresource, namespace: ns, name, object, oldObject,
    dryRun: opts.dryRun, user: opts.user, fieldManager: opts.fieldManager, warnings: opts.warnings,
    prepare: defaults?.defaults ? (o) => defaults.defaults!(o) : undefined,
    ...(isScaleAdmitted(opts) ? { skip: true } : {}),
  };
}
