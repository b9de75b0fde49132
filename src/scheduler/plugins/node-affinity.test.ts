import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/cycle-state.ts';
import { NodeInfo } from '../framework/node-info.ts';
import { node, podInfo } from '../testing.ts';
import { nodeAffinity } from './node-affinity.ts';

const st = new CycleState();
const ni = (name: string, labels: Record<string, string>) => new NodeInfo(name, node(name, { labels }));
const required = (...nodeSelectorTerms: object[]) =>
  podInfo('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } } } });
const ok = (p: ReturnType<typeof podInfo>, n: NodeInfo) => nodeAffinity.filter(st, p, n).code === 'Success';

test('nodeSelector must match every label', () => {
  const p = podInfo('p', { spec: { nodeSelector: { disk: 'ssd', zone: 'a' } } });
  assert.ok(ok(p, ni('n', { disk: 'ssd', zone: 'a', other: 'x' })));
  const s = nodeAffinity.filter(st, p, ni('n', { disk: 'ssd' }));
  assert.deepEqual(s, { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match Pod's node affinity/selector"] });
});

test('operators In, NotIn, Exists, DoesNotExist, Gt, Lt', () => {
  const n = ni('n', { zone: 'a', cores: '16' });
  const expr = (key: string, operator: string, values?: string[]) => required({ matchExpressions: [{ key, operator, values }] });
  assert.ok(ok(expr('zone', 'In', ['a', 'b']), n));
  assert.ok(!ok(expr('zone', 'In', ['b']), n));
  assert.ok(ok(expr('zone', 'NotIn', ['b']), n));
  assert.ok(ok(expr('missing', 'NotIn', ['b']), n));
  assert.ok(ok(expr('zone', 'Exists'), n));
  assert.ok(!ok(expr('zone', 'DoesNotExist'), n));
  assert.ok(ok(expr('cores', 'Gt', ['8']), n));
  assert.ok(!ok(expr('cores', 'Lt', ['8']), n));
  assert.ok(!ok(expr('zone', 'Gt', ['1']), n), 'non-integer label never matches Gt');
});

test('terms are ORed, requirements ANDed, empty term matches nothing; matchFields metadata.name', () => {
  const n = ni('n1', { zone: 'a' });
  assert.ok(ok(required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }, { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }), n));
  assert.ok(!ok(required({ matchExpressions: [{ key: 'zone', operator: 'Exists' }, { key: 'gpu', operator: 'Exists' }] }), n));
  assert.ok(!ok(required({}), n));
  assert.ok(ok(required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }), n));
  assert.ok(!ok(required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }), n));
});

test('preferred terms score by weight, normalized to 100', () => {
  const p = podInfo('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 80, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
    { weight: 20, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
  ] } } } });
  const nodes = [ni('both', { zone: 'a', disk: 'ssd' }), ni('zone', { zone: 'a' }), ni('none', {})];
  const scores = nodes.map((n) => ({ node: n, score: nodeAffinity.score(st, p, n) }));
  nodeAffinity.normalizeScore!(st, p, scores);
  assert.deepEqual(scores.map((s) => s.score), [100, 80, 0]);
});
