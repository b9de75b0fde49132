// NodeName: a pod that names its node (spec.nodeName) fits only there.
import type { FilterPlugin } from '../framework/interface.ts';
import { SUCCESS, unresolvable } from '../framework/status.ts';

export const ERR_NODE_NAME = "node(s) didn't match the requested node name";

export const nodeName: FilterPlugin = {
  name: 'NodeName',
  events: ['NodeAdd'],
  filter: (_state, pod, node) => (!pod.nodeName || pod.nodeName === node.name ? SUCCESS : unresolvable(ERR_NODE_NAME)),
};
