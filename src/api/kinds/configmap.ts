// ConfigMap: valid keys, no key in both data and binaryData, 1 MiB total, immutability.
import { invalid, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { obj } from './access.ts';
import { AGE, col } from './columns.ts';
import { MAX_DATA_SIZE, tooLarge, validateDataKeys, validateImmutableData } from './config-data.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

function validateConfigMap(cm: KObject): FieldError[] {
  const data = obj(cm.data);
  const binaryData = obj(cm.binaryData);
  const errs = [...validateDataKeys('data', data), ...validateDataKeys('binaryData', binaryData)];
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string') errs.push(invalid(`data[${k}]`, v, 'must be a string'));
    else size += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (k in binaryData) errs.push(invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  }
  for (const [k, v] of Object.entries(binaryData)) size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.from(v, 'base64').length : 0);
  if (size > MAX_DATA_SIZE) errs.push(tooLarge(''));
  return errs;
}

export const configMapKind: KindDefinition = {
  validate: validateConfigMap,
  validateUpdate: (cm, old) => validateImmutableData(cm, old, ['data', 'binaryData']),
  table: {
    columns: [col('Data', 'string', 0, 'Data contains the configuration data.'), AGE],
    cells: (cm, now) => [Object.keys(obj(cm.data)).length + Object.keys(obj(cm.binaryData)).length, since(cm.metadata.creationTimestamp, now)],
  },
};
