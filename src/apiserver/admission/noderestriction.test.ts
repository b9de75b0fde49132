import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupResource } from '../../api/scheme.ts';
import { changedRestrictedLabels, checkCreate, checkUpdate } from './noderestriction.ts';

const NODES = lookupResource('', 'v1', 'nodes')!;
const LEASES = lookupResource('coordination.k8s.io', 'v1', 'leases')!;
const PODS = lookupResource('', 'v1', 'pods')!;
const n = (name: string, labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });

test('a node creates and modifies only itself, and not node-restriction.kubernetes.io/ labels', () => {
  assert.doesNotThrow(() => checkCreate('a', NODES, n('a', { x: 'y' })));
  assert.throws(() => checkCreate('a', NODES, n('b')), /nodes "b" is forbidden: node "a" is not allowed to modify node "b"/);
  assert.throws(() => checkCreate('a', NODES, n('a', { 'node-restriction.kubernetes.io/pool': 'gold' })), /is not allowed to set the following labels: node-restriction.kubernetes.io\/pool/);
  assert.doesNotThrow(() => checkUpdate('a', NODES, 'a', n('a', { 'node-restriction.kubernetes.io/pool': 'gold' }), n('a', { 'node-restriction.kubernetes.io/pool': 'gold', other: 'x' })));
  assert.throws(() => checkUpdate('a', NODES, 'a', n('a', { 'node-restriction.kubernetes.io/pool': 'gold' }), n('a', {})), /not allowed to modify labels: node-restriction.kubernetes.io\/pool/);
  assert.throws(() => checkUpdate('a', NODES, 'b', n('b'), n('b')), /not allowed to modify node "b"/);
  assert.deepEqual(changedRestrictedLabels({ 'node-restriction.kubernetes.io/a': '1' }, { 'node-restriction.kubernetes.io/a': '2', 'node-restriction.kubernetes.io/b': '' }), ['node-restriction.kubernetes.io/a', 'node-restriction.kubernetes.io/b']);
});

test('leases by the node\'s name; pods only as mirror pods bound to itself', () => {
  const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' } });
  assert.doesNotThrow(() => checkCreate('a', LEASES, lease('a')));
  assert.throws(() => checkCreate('a', LEASES, lease('b')), /leases.coordination.k8s.io "b" is forbidden: can only access node lease with the same name as the requesting node/);
  const pod = (annotations: Record<string, string> | undefined, nodeName: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations }, spec: { nodeName } });
  assert.throws(() => checkCreate('a', PODS, pod(undefined, 'a')), /node "a" can only create mirror pods/);
  assert.throws(() => checkCreate('a', PODS, pod({ 'kubernetes.io/config.mirror': 'x' }, 'b')), /can only create pods with spec.nodeName set to itself/);
  assert.doesNotThrow(() => checkCreate('a', PODS, pod({ 'kubernetes.io/config.mirror': 'x' }, 'a')));
});
