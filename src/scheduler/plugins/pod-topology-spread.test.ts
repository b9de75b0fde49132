import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/cycle-state.ts';
import { newPodInfo } from '../framework/pod-info.ts';
import { Snapshot } from '../framework/snapshot.ts';
import { scheduleOne } from '../schedule-one.ts';
import { node, pod, seededRng } from '../testing.ts';
import { defaultProfile } from './index.ts';
import { podTopologySpread } from './pod-topology-spread.ts';

const ZONE = 'topology.kubernetes.io/zone';
const zoned = (name: string, zone: string) => node(name, { labels: { [ZONE]: zone } });
const web = (name: string, nodeName?: string) => pod(name, { labels: { app: 'web' }, nodeName });
const spread = (name: string, whenUnsatisfiable = 'DoNotSchedule', maxSkew = 1, extra: object = {}) => newPodInfo(pod(name, {
  labels: { app: 'web' },
  spec: { topologySpreadConstraints: [{ maxSkew, topologyKey: ZONE, whenUnsatisfiable, labelSelector: { matchLabels: { app: 'web' } }, ...extra }] },
}));

function feasible(snap: Snapshot, p: ReturnType<typeof newPodInfo>): string[] {
  const state = new CycleState();
  podTopologySpread.preFilter(state, p, snap);
  return snap.nodes.filter((n) => podTopologySpread.filter(state, p, n).code === 'Success').map((n) => n.name);
}

test('DoNotSchedule: only zones within maxSkew of the emptiest', () => {
  const snap = Snapshot.from([zoned('a1', 'a'), zoned('b1', 'b'), zoned('c1', 'c')], [web('w0', 'a1'), web('w1', 'b1')]);
  assert.deepEqual(feasible(snap, spread('p')), ['c1']);
  assert.deepEqual(feasible(snap, spread('p', 'DoNotSchedule', 2)), ['a1', 'b1', 'c1']);
  const state = new CycleState();
  const p = spread('p');
  podTopologySpread.preFilter(state, p, snap);
  assert.deepEqual(podTopologySpread.filter(state, p, snap.get('a1')!).reasons, ["node(s) didn't match pod topology spread constraints"]);
});

test('nodes without the topology key are unresolvable', () => {
  const snap = Snapshot.from([zoned('a1', 'a'), node('bare')]);
  const state = new CycleState();
  const p = spread('p');
  podTopologySpread.preFilter(state, p, snap);
  assert.deepEqual(podTopologySpread.filter(state, p, snap.get('bare')!),
    { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match pod topology spread constraints (missing required label)"] });
});

test('minDomains: fewer domains than asked count the missing ones as empty', () => {
  const snap = Snapshot.from([zoned('a1', 'a'), zoned('b1', 'b')], [web('w0', 'a1'), web('w1', 'b1')]);
  assert.deepEqual(feasible(snap, spread('p')), ['a1', 'b1']);
  assert.deepEqual(feasible(snap, spread('p', 'DoNotSchedule', 1, { minDomains: 3 })), []);
});

test('pods in another namespace or terminating do not count', () => {
  const snap = Snapshot.from([zoned('a1', 'a'), zoned('b1', 'b')], [
    pod('x', { labels: { app: 'web' }, nodeName: 'a1', namespace: 'other' }),
    pod('y', { labels: { app: 'web' }, nodeName: 'a1', deleting: true }),
  ]);
  assert.deepEqual(feasible(snap, spread('p')), ['a1', 'b1']);
});

test('six replicas spread 2/2/2 over three zones', () => {
  const nodes = [zoned('a1', 'a'), zoned('a2', 'a'), zoned('b1', 'b'), zoned('c1', 'c')];
  const placed: ReturnType<typeof pod>[] = [];
  for (let i = 0; i < 6; i++) {
    const r = scheduleOne(spread(`w${i}`), Snapshot.from(nodes, placed), defaultProfile(), { rng: seededRng(i) });
    assert.ok('node' in r);
    placed.push(web(`w${i}`, r.node));
  }
  const perZone: Record<string, number> = {};
  for (const p of placed) {
    const z = (p.spec as { nodeName: string }).nodeName[0]!;
    perZone[z] = (perZone[z] ?? 0) + 1;
  }
  assert.deepEqual(perZone, { a: 2, b: 2, c: 2 });
});

test('ScheduleAnyway scores the emptier zone higher', () => {
  const snap = Snapshot.from([zoned('a1', 'a'), zoned('b1', 'b')], [web('w0', 'a1'), web('w1', 'a1')]);
  const p = spread('p', 'ScheduleAnyway');
  const state = new CycleState();
  assert.equal(podTopologySpread.preFilter(state, p, snap).code, 'Skip');
  podTopologySpread.preScore(state, p, snap.nodes, snap);
  const scores = snap.nodes.map((n) => ({ node: n, score: podTopologySpread.score(state, p, n) }));
  podTopologySpread.normalizeScore!(state, p, scores);
  assert.deepEqual(scores.map((s) => s.score), [0, 100]);
});
