import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snapshot } from '../framework/snapshot.ts';
import { newPodInfo } from '../framework/pod-info.ts';
import { defaultProfile } from './index.ts';
import { scheduleOne } from '../schedule-one.ts';
import { CycleState } from '../framework/cycle-state.ts';
import { node, pod, seededRng } from '../testing.ts';
import { interPodAffinity } from './inter-pod-affinity.ts';

const ZONE = 'topology.kubernetes.io/zone';
const zoned = (name: string, zone: string) => node(name, { labels: { [ZONE]: zone } });
const cluster = () => [zoned('a1', 'a'), zoned('a2', 'a'), zoned('b1', 'b'), zoned('c1', 'c')];
const term = (labels: Record<string, string>, topologyKey = ZONE) => ({ labelSelector: { matchLabels: labels }, topologyKey });
const withAffinity = (name: string, affinity: object, labels: Record<string, string> = {}) => newPodInfo(pod(name, { labels, spec: { affinity } }));

function feasible(snapshot: Snapshot, p: ReturnType<typeof newPodInfo>): string[] {
  const state = new CycleState();
  if (interPodAffinity.preFilter(state, p, snapshot).code === 'Skip') return snapshot.nodes.map((n) => n.name);
  return snapshot.nodes.filter((n) => interPodAffinity.filter(state, p, n).code === 'Success').map((n) => n.name);
}

test('required anti-affinity across zones keeps replicas apart', () => {
  const snap = Snapshot.from(cluster(), [pod('web-0', { labels: { app: 'web' }, nodeName: 'a1' })]);
  const p = withAffinity('web-1', { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } }, { app: 'web' });
  assert.deepEqual(feasible(snap, p), ['b1', 'c1']);
  const state = new CycleState();
  interPodAffinity.preFilter(state, p, snap);
  assert.deepEqual(interPodAffinity.filter(state, p, snap.get('a2')!).reasons, ["node(s) didn't match pod anti-affinity rules"]);
});

test('three replicas with zone anti-affinity land in three zones; the fourth fits nowhere', () => {
  const nodes = cluster();
  const placed: ReturnType<typeof pod>[] = [];
  for (let i = 0; i < 3; i++) {
    const p = pod(`web-${i}`, { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } } } });
    const r = scheduleOne(newPodInfo(p), Snapshot.from(nodes, placed), defaultProfile(), { rng: seededRng(i) });
    assert.ok('node' in r);
    placed.push({ ...p, spec: { ...(p.spec as object), nodeName: r.node } });
  }
  const zones = placed.map((p) => (p.spec as { nodeName: string }).nodeName[0]).sort();
  assert.deepEqual(zones, ['a', 'b', 'c']);
  const fourth = pod('web-3', { labels: { app: 'web' }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' })] } } } });
  const r = scheduleOne(newPodInfo(fourth), Snapshot.from(nodes, placed), defaultProfile({ postFilter: [] }));
  assert.ok('unschedulable' in r);
  assert.equal(r.unschedulable.message, "0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules.");
});

test("existing pods' anti-affinity keeps newcomers out", () => {
  const loner = pod('loner', { nodeName: 'b1', spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'noisy' })] } } } });
  const snap = Snapshot.from(cluster(), [loner]);
  const noisy = newPodInfo(pod('n', { labels: { app: 'noisy' } }));
  assert.deepEqual(feasible(snap, noisy), ['a1', 'a2', 'c1']);
  const state = new CycleState();
  interPodAffinity.preFilter(state, noisy, snap);
  assert.deepEqual(interPodAffinity.filter(state, noisy, snap.get('b1')!).reasons, ["node(s) didn't satisfy existing pods anti-affinity rules"]);
  assert.deepEqual(feasible(snap, newPodInfo(pod('quiet'))), ['a1', 'a2', 'b1', 'c1']);
});

test('required affinity follows the matching pods; the first of a group may go anywhere', () => {
  const snap = Snapshot.from(cluster(), [pod('db', { labels: { app: 'db' }, nodeName: 'b1' })]);
  const p = withAffinity('api', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } });
  assert.deepEqual(feasible(snap, p), ['b1']);
  const state = new CycleState();
  interPodAffinity.preFilter(state, p, snap);
  const s = interPodAffinity.filter(state, p, snap.get('a1')!);
  assert.deepEqual(s, { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match pod affinity rules"] });
  const first = withAffinity('cache-0', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cache' })] } }, { app: 'cache' });
  assert.deepEqual(feasible(snap, first), ['a1', 'a2', 'b1', 'c1']);
  const stranger = withAffinity('x', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cache' })] } });
  assert.deepEqual(feasible(snap, stranger), []);
});

test('namespaces: terms look in the pod namespace unless told otherwise', () => {
  const snap = Snapshot.from(cluster(), [pod('db', { labels: { app: 'db' }, nodeName: 'b1', namespace: 'other' })]);
  const local = withAffinity('api', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } });
  assert.deepEqual(feasible(snap, local), []);
  const cross = withAffinity('api', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term({ app: 'db' }), namespaces: ['other'] }] } });
  assert.deepEqual(feasible(snap, cross), ['b1']);
  const all = withAffinity('api', { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term({ app: 'db' }), namespaceSelector: {} }] } });
  assert.deepEqual(feasible(snap, all), ['b1']);
});

test('preferred affinity and anti-affinity score the zones', () => {
  const snap = Snapshot.from(cluster(), [pod('db', { labels: { app: 'db' }, nodeName: 'b1' }), pod('batch', { labels: { app: 'batch' }, nodeName: 'c1' })]);
  const p = withAffinity('api', {
    podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'db' }) }] },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'batch' }) }] },
  });
  const state = new CycleState();
  assert.equal(interPodAffinity.preScore(state, p, snap.nodes, snap).code, 'Success');
  const scores = snap.nodes.map((n) => ({ node: n, score: interPodAffinity.score(state, p, n) }));
  interPodAffinity.normalizeScore!(state, p, scores);
  assert.deepEqual(Object.fromEntries(scores.map((s) => [s.node.name, s.score])), { a1: 50, a2: 50, b1: 100, c1: 0 });
});

test('preemption simulation: removing a victim lifts its anti-affinity', () => {
  const blocker = pod('blocker', { nodeName: 'a1', priority: 0, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'x' }, 'kubernetes.io/hostname')] } } } });
  const snap = Snapshot.from([zoned('a1', 'a')], [blocker]);
  const r = scheduleOne(newPodInfo(pod('x', { labels: { app: 'x' }, priority: 10 })), snap, defaultProfile());
  assert.ok('preempt' in r, JSON.stringify(r));
  assert.deepEqual(r.preempt.victims.map((v) => v.name), ['blocker']);
});
