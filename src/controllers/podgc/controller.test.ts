import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { PodGCController } from './controller.ts';

type Json = Record<string, any>;

const pod = (name: string, nodeName?: string): KObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});

async function setPhase(bed: TestBed, name: string, phase: string): Promise<void> {
  const pods = bed.api.resource('', 'v1', 'pods');
  const p = await pods.get('default', name);
  p.status = { ...(p.status as Json), phase };
  await pods.updateStatus(p);
}

const exists = async (bed: TestBed, name: string) => Boolean(await bed.api.resource('', 'v1', 'pods').tryGet('default', name));

test('pods on nodes that no longer exist are force-deleted after the grace, others stay', async () => {
  const bed = await testBed();
  try {
    const nodes = bed.api.resource('', 'v1', 'nodes');
    const pods = bed.api.resource('', 'v1', 'pods');
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
    await pods.create(pod('on-n1', 'n1'));
    await pods.create(pod('on-n2', 'n2'));
    await pods.create(pod('on-ghost', 'ghost'));
    await pods.create(pod('unscheduled'));
    // A pod being deleted gracefully on n2: its kubelet will never finish the job.
    await pods.delete('default', 'on-n2');
    assert.ok((await pods.get('default', 'on-n2')).metadata.deletionTimestamp);

    const started = Date.now();
    await bed.run(new PodGCController({ orphanGraceMs: 300 }));
    await bed.until(async () => !(await exists(bed, 'on-ghost')), 5000, 'ghost pod collected');
    assert.ok(Date.now() - started >= 250, 'waited out the grace');
    assert.ok(await exists(bed, 'on-n1'));
    assert.ok(await exists(bed, 'on-n2'));
    assert.ok(await exists(bed, 'unscheduled'));

    await nodes.delete(undefined, 'n1');
    await nodes.delete(undefined, 'n2');
    await bed.until(async () => !(await exists(bed, 'on-n1')) && !(await exists(bed, 'on-n2')), 5000, 'pods of deleted nodes collected');
    assert.ok(await exists(bed, 'unscheduled'));
  } finally {
    await bed.close();
  }
});

test('a running pod of a vanished node is marked Failed before it is deleted', async () => {
  const bed = await testBed();
  try {
    const pods = bed.api.resource('', 'v1', 'pods');
    await pods.create(pod('lost', 'gone-node'));
    await setPhase(bed, 'lost', 'Running');
    const seen: Json[] = [];
    const watch = await pods.watch('default', {}, (ev) => { if (ev.type === 'MODIFIED') seen.push(ev.object as Json); });
    await bed.run(new PodGCController({ orphanGraceMs: 0 }));
    await bed.until(async () => !(await exists(bed, 'lost')), 5000, 'collected');
    await bed.until(() => seen.some((p) => p.status?.phase === 'Failed'), 2000, 'Failed status seen');
    const failed = seen.find((p) => p.status?.phase === 'Failed')!;
    const cond = failed.status.conditions.find((c: Json) => c.type === 'DisruptionTarget');
    assert.equal(cond.reason, 'DeletionByPodGC');
    watch.close();
  } finally {
    await bed.close();
  }
});

test('terminated pods above the threshold are deleted, oldest first', async () => {
  const bed = await testBed();
  try {
    const pods = bed.api.resource('', 'v1', 'pods');
    await bed.api.resource('', 'v1', 'nodes').create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    for (let i = 0; i < 5; i++) await pods.create(pod(`done-${i}`, 'n1'));
    await pods.create(pod('running', 'n1'));
    await setPhase(bed, 'running', 'Running');
    await bed.run(new PodGCController({ terminatedPodThreshold: 3 }));
    for (let i = 0; i < 5; i++) await setPhase(bed, `done-${i}`, i % 2 ? 'Failed' : 'Succeeded');
    await bed.until(async () => (await pods.list('default')).items.length === 4, 5000, 'two collected');
    const names = (await pods.list('default')).items.map((p) => p.metadata.name).sort();
    assert.deepEqual(names, ['done-2', 'done-3', 'done-4', 'running']);
  } finally {
    await bed.close();
  }
});
