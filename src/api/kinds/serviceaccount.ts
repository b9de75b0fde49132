// ServiceAccount: only the table is its own (SECRETS AGE).
import { arr } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

export const serviceAccountKind: KindDefinition = {
  table: {
    columns: [col('Secrets', 'string', 0, 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE],
    cells: (sa, now) => [arr(sa.secrets).length, since(sa.metadata.creationTimestamp, now)],
  },
};
