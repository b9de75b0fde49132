// Node: allocatable defaults to capacity; the `kubectl get nodes` table; spec.unschedulable
// as a field selector.
import { invalid, notSupported, type FieldError } from '../field-error.ts';
import { isQualifiedName } from '../validation/index.ts';
import { child, obj, objs, str, type Json } from './access.ts';
import { AGE, col, wide } from './columns.ts';
import { since } from './format.ts';
import type { KObject } from '../object.ts';
import type { KindDefinition } from './strategy.ts';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';

/** Roles from node-role.kubernetes.io/<role> labels and the older kubernetes.io/role label. */
export function nodeRoles(node: KObject): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(ROLE_LABEL_PREFIX) && k.length > ROLE_LABEL_PREFIX.length) roles.add(k.slice(ROLE_LABEL_PREFIX.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

/** "Ready", "NotReady", "Unknown", plus ",SchedulingDisabled" when cordoned. */
export function nodeStatus(node: KObject): string {
  const ready = objs(obj(node.status).conditions).find((c) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (obj(node.spec).unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

const address = (status: Json, type: string): string =>
  str(objs(status.addresses).find((a) => a.type === type)?.address) || '<none>';

function validateNodeSpec(node: KObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(obj(node.spec).taints).forEach((t, i) => {
    const key = str(t.key);
    errs.push(...isQualifiedName(key).map((m) => invalid(`spec.taints[${i}].key`, key, m)));
    if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect as string)) {
      errs.push(notSupported(`spec.taints[${i}].effect`, t.effect ?? '', ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

export const nodeKind: KindDefinition = {
  defaults(node) {
    const status = child(node, 'status');
    if (status.capacity !== undefined && status.allocatable === undefined) status.allocatable = { ...obj(status.capacity) };
  },
  validate: validateNodeSpec,
  table: {
    columns: [
      col('Status', 'string', 0, 'The status of the node'),
      col('Roles', 'string', 0, 'The roles of the node'),
      AGE,
      col('Version', 'string', 0, 'Kubelet Version reported by the node.'),
      wide('Internal-IP'), wide('External-IP'), wide('OS-Image'), wide('Kernel-Version'), wide('Container-Runtime'),
    ],
    cells(node, now) {
      const status = obj(node.status);
      const info = obj(status.nodeInfo);
      return [
        nodeStatus(node),
        nodeRoles(node).join(',') || '<none>',
        since(node.metadata.creationTimestamp, now),
        str(info.kubeletVersion),
        address(status, 'InternalIP'),
        address(status, 'ExternalIP'),
        str(info.osImage) || '<unknown>',
        str(info.kernelVersion) || '<unknown>',
        str(info.containerRuntimeVersion) || '<unknown>',
      ];
    },
  },
  selectableFields: {
    'spec.unschedulable': (n) => String(obj(n.spec).unschedulable === true),
  },
};
