import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { pinToNode, placement, targetNodeName, withDaemonTolerations } from './eligibility.ts';

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KObject =>
  ({ metadata: { name, labels }, spec: { taints } });

describe('daemon pod placement', () => {
  it('matches nodeSelector and required node affinity', () => {
    const template = {
      spec: {
        nodeSelector: { zone: 'a' },
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
          { matchExpressions: [{ key: 'arch', operator: 'In', values: ['arm64'] }] },
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['special'] }] },
        ] } } },
      },
    };
    assert.equal(placement(template, node('x', { zone: 'a', arch: 'arm64' })).shouldRun, true);
    assert.equal(placement(template, node('x', { zone: 'b', arch: 'arm64' })).shouldRun, false);
    assert.equal(placement(template, node('x', { zone: 'a', arch: 'amd64' })).shouldRun, false);
    assert.equal(placement(template, node('special', { zone: 'a' })).shouldRun, true);
  });

  it('NoSchedule stops new pods, NoExecute also evicts', () => {
    const ns = placement({ spec: {} }, node('x', {}, [{ key: 'k', effect: 'NoSchedule' }]));
    assert.deepEqual(ns, { shouldRun: false, shouldContinueRunning: true });
    const ne = placement({ spec: {} }, node('x', {}, [{ key: 'k', effect: 'NoExecute' }]));
    assert.deepEqual(ne, { shouldRun: false, shouldContinueRunning: false });
    const pns = placement({ spec: {} }, node('x', {}, [{ key: 'k', effect: 'PreferNoSchedule' }]));
    assert.deepEqual(pns, { shouldRun: true, shouldContinueRunning: true });
    for (const key of ['node.kubernetes.io/memory-pressure', 'node.kubernetes.io/disk-pressure', 'node.kubernetes.io/pid-pressure', 'node.kubernetes.io/unschedulable']) {
      assert.equal(placement({ spec: {} }, node('x', {}, [{ key, effect: 'NoSchedule' }])).shouldRun, true, key);
    }
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      assert.equal(placement({ spec: {} }, node('x', {}, [{ key, effect: 'NoExecute' }])).shouldRun, true, key);
    }
    const netTaint = [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }];
    assert.equal(placement({ spec: {} }, node('x', {}, netTaint)).shouldRun, false);
    assert.equal(placement({ spec: { hostNetwork: true } }, node('x', {}, netTaint)).shouldRun, true);
  });

  it('keeps user tolerations and replaces equal daemon ones', () => {
    const t = withDaemonTolerations({ tolerations: [
      { key: 'a', operator: 'Exists' as const },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' as const },
    ] });
    assert.equal(t.filter((x) => x.key === 'node.kubernetes.io/not-ready').length, 1);
    assert.ok(t.some((x) => x.key === 'a'));
  });

  it('pins to a node and reads the pin back', () => {
    const spec: Record<string, any> = { affinity: { podAffinity: {}, nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } } };
    pinToNode(spec, 'n7');
    assert.deepEqual(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }]);
    assert.deepEqual(spec.affinity.podAffinity, {});
    assert.deepEqual(spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution, []);
    assert.equal(targetNodeName({ metadata: {}, spec }), 'n7');
    assert.equal(targetNodeName({ metadata: {}, spec: { ...spec, nodeName: 'bound' } }), 'bound');
  });
});
