import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeInfo } from '../framework/node-info.ts';
import { node, podInfo } from '../testing.ts';
import { pickCandidate } from './default-preemption.ts';
import { Snapshot } from '../framework/snapshot.ts';
import { CycleState } from '../framework/cycle-state.ts';
import { defaultProfile } from './index.ts';
import { defaultPreemption } from './default-preemption.ts';
import { frameworkHandle, runFilters } from '../framework/runtime.ts';
import type { Status } from '../framework/status.ts';
import { pod } from '../testing.ts';

const cand = (name: string, ...victims: { p: number; started?: string }[]) => ({
  node: new NodeInfo(name, node(name)),
  victims: victims.map((v, i) => podInfo(`${name}-${i}`, { priority: v.p, created: v.started })),
});

test('candidate order: lowest top priority, then priority sum, then fewest victims, then latest start', () => {
  assert.equal(pickCandidate([cand('a', { p: 5 }), cand('b', { p: 1 }, { p: 2 })])!.node.name, 'b');
  assert.equal(pickCandidate([cand('a', { p: 2 }, { p: 2 }), cand('b', { p: 2 })])!.node.name, 'b');
  assert.equal(pickCandidate([cand('a', { p: 2 }, { p: 1 }), cand('b', { p: 2 }, { p: 0 })])!.node.name, 'b');
  assert.equal(pickCandidate([
    cand('old', { p: 3, started: '2024-01-01T00:00:00Z' }),
    cand('new', { p: 3, started: '2024-06-01T00:00:00Z' }),
  ])!.node.name, 'new', 'evict the pod that has run the shortest');
  assert.equal(pickCandidate([]), undefined);
});

test('not eligible while an earlier victim is still terminating on the nominated node', () => {
  const snap = Snapshot.from([node('a', { cpu: '1' })], [pod('leaving', { cpu: '1', priority: 0, nodeName: 'a', deleting: true })]);
  const profile = defaultProfile();
  const p = podInfo('p', { cpu: '1', priority: 10 });
  const nominated = { ...p, nominatedNodeName: 'a' };
  const state = new CycleState();
  const statuses = new Map<string, Status>([['a', runFilters(profile, state, p, snap.get('a')!)]]);
  const r = defaultPreemption.postFilter(state, nominated, snap, statuses, frameworkHandle(profile));
  assert.deepEqual(r.status.reasons, ['preemption: not eligible due to a terminating pod on the nominated node.']);
});
