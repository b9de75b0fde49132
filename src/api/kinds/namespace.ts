// Namespace: DNS-label names, the "kubernetes" finalizer, phase Active, and the
// kubernetes.io/metadata.name label Kubernetes adds to every namespace.
import { nameIsDNSLabel } from '../validation/index.ts';
import { arr, child, obj, setDefault, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

export const namespaceKind: KindDefinition = {
  nameValidator: nameIsDNSLabel,
  // Only at creation: the namespace controller removes the finalizer through /finalize,
  // and a default applied on every update would put it straight back.
  prepareForCreate(ns) {
    const spec = child(ns, 'spec');
    if (arr(spec.finalizers).length === 0) spec.finalizers = ['kubernetes'];
  },
  defaults(ns) {
    setDefault(child(ns, 'status'), 'phase', 'Active');
    if (ns.metadata.name) ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name };
  },
  table: {
    columns: [col('Status', 'string', 0, 'The status of the namespace'), AGE],
    cells: (ns, now) => [str(obj(ns.status).phase), since(ns.metadata.creationTimestamp, now)],
  },
  selectableFields: {
    'status.phase': (ns) => str(obj(ns.status).phase),
  },
};
