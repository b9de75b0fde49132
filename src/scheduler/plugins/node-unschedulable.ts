// NodeUnschedulable: cordoned nodes (spec.unschedulable) take only pods tolerating the
// node.kubernetes.io/unschedulable:NoSchedule taint, as DaemonSet pods do.
import type { FilterPlugin } from '../framework/interface.ts';
import type { Taint } from '../framework/pod-info.ts';
import { SUCCESS, unresolvable } from '../framework/status.ts';
import { toleratedBy } from './helpers/taints.ts';

export const ERR_UNSCHEDULABLE = 'node(s) were unschedulable';
const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, node) {
    if (!node.unschedulable || toleratedBy(pod.tolerations, UNSCHEDULABLE_TAINT)) return SUCCESS;
    return unresolvable(ERR_UNSCHEDULABLE);
  },
};
