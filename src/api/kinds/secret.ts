// Secret: type defaults to Opaque, stringData is folded into data on every write, data
// must be base64, type-specific required keys, immutable type, and the table.
import { invalid, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { child, obj, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { MAX_DATA_SIZE, tooLarge, validateDataKeys, validateImmutableData } from './config-data.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

/** Keys each built-in secret type must carry in data. */
const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};
const JSON_KEYS: Record<string, string> = {
  'kubernetes.io/dockercfg': '.dockercfg',
  'kubernetes.io/dockerconfigjson': '.dockerconfigjson',
};

/** Index of the first byte a strict (padded, standard alphabet) base64 decoder rejects, or -1. */
export function base64ErrorAt(s: string): number {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = s.indexOf('=');
  if (pad >= 0 && (!/^=*$/.test(s.slice(pad)) || s.length - pad > 2)) return pad;
  if (s.length % 4 !== 0) return s.length - (s.length % 4);
  return -1;
}

function foldStringData(secret: KObject): void {
  const stringData = obj(secret.stringData);
  if (Object.keys(stringData).length > 0) {
    const data = child(secret, 'data');
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete secret.stringData;
}

function validateSecret(secret: KObject): FieldError[] {
  const data = obj(secret.data);
  const type = str(secret.type);
  const errs = validateDataKeys('data', data);
  let size = 0;
  const decoded = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(data)) {
    const text = typeof v === 'string' ? v : '';
    const at = base64ErrorAt(text);
    if (typeof v !== 'string' || at >= 0) {
      errs.push(invalid(`data[${k}]`, '<secret contents redacted>', `illegal base64 data at input byte ${Math.max(at, 0)}`));
      continue;
    }
    const bytes = Buffer.from(text, 'base64');
    decoded.set(k, bytes);
    size += Buffer.byteLength(k) + bytes.length;
  }
  if (size > MAX_DATA_SIZE) errs.push(tooLarge('data'));

  for (const key of REQUIRED_KEYS[type] ?? []) if (!decoded.get(key)?.length) errs.push(required(`data[${key}]`));
  const jsonKey = JSON_KEYS[type];
  const jsonBytes = jsonKey ? decoded.get(jsonKey) : undefined;
  if (jsonKey && jsonBytes?.length) {
    try {
      JSON.parse(jsonBytes.toString('utf8'));
    } catch (e) {
      errs.push(invalid(`data[${jsonKey}]`, '<secret contents redacted>', (e as Error).message));
    }
  }
  if (type === 'kubernetes.io/basic-auth' && !decoded.get('username')?.length && !decoded.get('password')?.length) {
    errs.push(required('data[username]'), required('data[password]'));
  }
  if (type === 'kubernetes.io/service-account-token' && !secret.metadata.annotations?.['kubernetes.io/service-account.name']) {
    errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  return errs;
}

export const secretKind: KindDefinition = {
  defaults(secret) {
    if (!secret.type) secret.type = 'Opaque';
    foldStringData(secret);
  },
  validate: validateSecret,
  validateUpdate(secret, old) {
    const errs = validateImmutableData(secret, old, ['data']);
    if (secret.type !== old.type) errs.push(invalid('type', secret.type, 'field is immutable'));
    return errs;
  },
  table: {
    columns: [col('Type', 'string', 0, 'The type of the secret'), col('Data', 'string', 0, 'The number of entries in the secret'), AGE],
    cells: (s, now) => [str(s.type), Object.keys(obj(s.data)).length, since(s.metadata.creationTimestamp, now)],
  },
  selectableFields: {
    type: (s) => str(s.type),
  },
};
