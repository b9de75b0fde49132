// PersistentVolume: capacity (storage only) and access modes required, exactly one
// volume source, reclaim policy; defaults and the `kubectl get pv` table.
import { forbidden, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { validateQuantity } from '../validation/index.ts';
import { arr, child, obj, setDefault, str } from './access.ts';
import { accessModesString, validateAccessModes } from './access-modes.ts';
import { AGE, col, wide } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

const PV_SOURCES = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder', 'cephfs',
  'fc', 'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk',
  'portworxVolume', 'scaleIO', 'local', 'storageos', 'csi',
];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];

function validatePV(pv: KObject): FieldError[] {
  const spec = obj(pv.spec);
  const errs: FieldError[] = [];
  if (arr(spec.accessModes).length === 0) errs.push(required('spec.accessModes'));
  errs.push(...validateAccessModes('spec.accessModes', spec.accessModes));
  const capacity = obj(spec.capacity);
  if (Object.keys(capacity).length === 0) errs.push(required('spec.capacity'));
  else if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(notSupported('spec.capacity', capacity, ['storage']));
  else errs.push(...validateQuantity('spec.capacity[storage]', capacity.storage));
  const sources = PV_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (sources.length === 0) errs.push(required('spec', 'must specify a volume type'));
  else if (sources.length > 1) errs.push(forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  if (spec.persistentVolumeReclaimPolicy !== undefined && !RECLAIM_POLICIES.includes(spec.persistentVolumeReclaimPolicy as string)) {
    errs.push(notSupported('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, RECLAIM_POLICIES));
  }
  return errs;
}

/** STATUS for PVs and PVCs: the phase, or Terminating while being deleted. */
export const volumePhase = (o: KObject): string => (o.metadata.deletionTimestamp ? 'Terminating' : str(obj(o.status).phase));

export const persistentVolumeKind: KindDefinition = {
  defaults(pv) {
    const spec = child(pv, 'spec');
    setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setDefault(spec, 'volumeMode', 'Filesystem');
    setDefault(child(pv, 'status'), 'phase', 'Pending');
  },
  validate: validatePV,
  table: {
    columns: [
      col('Capacity', 'string'), col('Access Modes', 'string'), col('Reclaim Policy', 'string'), col('Status', 'string'),
      col('Claim', 'string'), col('StorageClass', 'string'), col('VolumeAttributesClass', 'string'), col('Reason', 'string'),
      AGE, wide('VolumeMode'),
    ],
    cells(pv, now) {
      const spec = obj(pv.spec);
      const claimRef = obj(spec.claimRef);
      const claim = claimRef.name ? `${str(claimRef.namespace)}/${str(claimRef.name)}` : '';
      return [
        String(obj(spec.capacity).storage ?? ''), accessModesString(spec.accessModes), str(spec.persistentVolumeReclaimPolicy),
        volumePhase(pv), claim, str(spec.storageClassName), str(spec.volumeAttributesClassName) || '<unset>',
        str(obj(pv.status).reason), since(pv.metadata.creationTimestamp, now), str(spec.volumeMode) || '<unset>',
      ];
    },
  },
};

