// ResourceQuota: hard limits are quantities; the table shows used/hard for requests and
// limits the way kubectl does ("cpu: 500m/2, memory: 0/1Gi").
import { notSupported, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { validateQuantity } from '../validation/index.ts';
import { arr, obj } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

const SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];

function validateQuota(rq: KObject): FieldError[] {
  const spec = obj(rq.spec);
  const errs = Object.entries(obj(spec.hard)).flatMap(([r, q]) => validateQuantity(`spec.hard[${r}]`, q));
  arr(spec.scopes).forEach((s, i) => {
    if (!SCOPES.includes(s as string)) errs.push(notSupported(`spec.scopes[${i}]`, s, SCOPES));
  });
  return errs;
}

/** [requests text, limits text]: resources named limits.* go to the second. */
function usage(rq: KObject): [string, string] {
  const hard = obj(obj(rq.status).hard ?? obj(rq.spec).hard);
  const used = obj(obj(rq.status).used);
  const requests: string[] = [];
  const limits: string[] = [];
  for (const r of Object.keys(hard).sort()) {
    const text = `${r}: ${String(used[r] ?? 0)}/${String(hard[r])}`;
    (r.startsWith('limits.') ? limits : requests).push(text);
  }
  return [requests.join(', '), limits.join(', ')];
}

export const resourceQuotaKind: KindDefinition = {
  validate: validateQuota,
  table: {
    columns: [AGE, col('Request', 'string', 0, 'Request represents a minimum amount of cpu/memory that a container may consume.'), col('Limit', 'string', 0, 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.')],
    cells: (rq, now) => [since(rq.metadata.creationTimestamp, now), ...usage(rq)],
  },
};
