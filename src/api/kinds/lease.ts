// Lease (coordination.k8s.io): durations must be positive; the table shows the holder.
import { obj, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import { validateNonNegative, validatePositive } from '../validation/index.ts';

export const leaseKind: KindDefinition = {
  validate(lease) {
    const spec = obj(lease.spec);
    return [
      ...validatePositive('spec.leaseDurationSeconds', spec.leaseDurationSeconds),
      ...validateNonNegative('spec.leaseTransitions', spec.leaseTransitions),
    ];
  },
  table: {
    columns: [col('Holder', 'string', 0, 'The holder of the lease.'), AGE],
    cells: (lease, now) => [str(obj(lease.spec).holderIdentity), since(lease.metadata.creationTimestamp, now)],
  },
};
