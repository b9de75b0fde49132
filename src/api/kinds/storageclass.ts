// StorageClass (storage.k8s.io): provisioner required; provisioner, parameters and
// policies fixed after creation; table with the default reclaim/binding modes.
import { forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isQualifiedName } from '../validation/index.ts';
import { jsonEqual, setDefault, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

function validateStorageClass(sc: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = str(sc.provisioner);
  if (!provisioner) errs.push(required('provisioner'));
  else errs.push(...isQualifiedName(provisioner.toLowerCase()).map((m) => invalid('provisioner', provisioner, m)));
  if (!['Delete', 'Retain'].includes(sc.reclaimPolicy as string)) errs.push(notSupported('reclaimPolicy', sc.reclaimPolicy, ['Delete', 'Retain']));
  if (!['Immediate', 'WaitForFirstConsumer'].includes(sc.volumeBindingMode as string)) {
    errs.push(notSupported('volumeBindingMode', sc.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  }
  return errs;
}

function validateStorageClassUpdate(sc: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!jsonEqual(sc.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (sc.volumeBindingMode !== old.volumeBindingMode) errs.push(invalid('volumeBindingMode', sc.volumeBindingMode, 'field is immutable'));
  return errs;
}

export const storageClassKind: KindDefinition = {
  defaults(sc) {
    setDefault(sc, 'reclaimPolicy', 'Delete');
    setDefault(sc, 'volumeBindingMode', 'Immediate');
  },
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
  table: {
    columns: [col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion'), AGE],
    cells: (sc, now) => [
      str(sc.provisioner), str(sc.reclaimPolicy), str(sc.volumeBindingMode), sc.allowVolumeExpansion === true,
      since(sc.metadata.creationTimestamp, now),
    ],
  },
};
