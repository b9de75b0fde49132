// PersistentVolumeClaim: access modes and a storage request required; after creation only
// the requests (expansion) and an unset volumeName may change; the `kubectl get pvc` table.
import { forbidden, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { validateQuantity } from '../validation/index.ts';
import { arr, child, clone, jsonEqual, obj, setDefault, str } from './access.ts';
import { accessModesString, validateAccessModes } from './access-modes.ts';
import { AGE, col, wide } from './columns.ts';
import { since } from './format.ts';
import { volumePhase } from './persistentvolume.ts';
import type { KindDefinition } from './strategy.ts';

function validatePVC(pvc: KObject): FieldError[] {
  const spec = obj(pvc.spec);
  const errs: FieldError[] = [];
  if (arr(spec.accessModes).length === 0) errs.push(required('spec.accessModes', 'at least 1 access mode is required'));
  errs.push(...validateAccessModes('spec.accessModes', spec.accessModes));
  const requests = obj(obj(spec.resources).requests);
  if (requests.storage === undefined) errs.push(required('spec.resources[storage]'));
  for (const [r, q] of Object.entries(requests)) errs.push(...validateQuantity(`spec.resources.requests[${r}]`, q));
  return errs;
}

function validatePVCUpdate(pvc: KObject, old: KObject): FieldError[] {
  const masked = clone(obj(pvc.spec));
  const oldSpec = obj(old.spec);
  masked.resources = { ...obj(masked.resources), requests: obj(oldSpec.resources).requests };
  if (!obj(oldSpec.resources).requests) delete (masked.resources as Record<string, unknown>).requests;
  if (!oldSpec.volumeName) masked.volumeName = oldSpec.volumeName;
  masked.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  return jsonEqual(masked, oldSpec) ? [] : [forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
}

export const persistentVolumeClaimKind: KindDefinition = {
  defaults(pvc) {
    setDefault(child(pvc, 'spec'), 'volumeMode', 'Filesystem');
    setDefault(child(pvc, 'status'), 'phase', 'Pending');
  },
  validate: validatePVC,
  validateUpdate: validatePVCUpdate,
  table: {
    columns: [
      col('Status', 'string'), col('Volume', 'string'), col('Capacity', 'string'), col('Access Modes', 'string'),
      col('StorageClass', 'string'), col('VolumeAttributesClass', 'string'), AGE, wide('VolumeMode'),
    ],
    cells(pvc, now) {
      const spec = obj(pvc.spec);
      const status = obj(pvc.status);
      const bound = Boolean(spec.volumeName);
      return [
        volumePhase(pvc), str(spec.volumeName),
        bound ? String(obj(status.capacity).storage ?? '') : '',
        bound ? accessModesString(status.accessModes) : '',
        str(spec.storageClassName), str(spec.volumeAttributesClassName) || '<unset>',
        since(pvc.metadata.creationTimestamp, now), str(spec.volumeMode) || '<unset>',
      ];
    },
  },
};
