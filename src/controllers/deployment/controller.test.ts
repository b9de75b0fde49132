import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { ReplicaSetController } from '../replicaset/controller.ts';
import { isPodReady } from '../replicaset/pods.ts';
import { livePods, pods, podTemplate, setPodReady, settled } from '../replicaset/testing.ts';
import { DeploymentController } from './controller.ts';

/** Test-side view of API JSON: loosely typed so assertions read like the YAML. */
type Json = Record<string, any>;

const deployments = (bed: TestBed) => bed.api.resource('apps', 'v1', 'deployments');
const replicaSets = (bed: TestBed) => bed.api.resource('apps', 'v1', 'replicasets');

function deployment(name: string, replicas: number, spec: Json = {}, image = 'nginx:1.25'): KObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }, image), ...spec },
  };
}

interface Harness { bed: TestBed; rsc: ReplicaSetController; dc: DeploymentController; settle(): Promise<void> }

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const bed = await testBed();
  const rsc = new ReplicaSetController();
  const dc = new DeploymentController();
  try {
    await bed.run(rsc, dc);
    await fn({ bed, rsc, dc, settle: () => settled(bed, [rsc, dc], 80, 8000) });
  } finally {
    await bed.close();
  }
}

async function getDeployment(bed: TestBed, name = 'web'): Promise<Json> {
  return deployments(bed).get('default', name) as Promise<Json>;
}

async function ownedReplicaSets(bed: TestBed, name = 'web'): Promise<Json[]> {
  const d = await getDeployment(bed, name);
  const { items } = await replicaSets(bed).list('default');
  return items.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid)) as Json[];
}

/** Play the kubelet: every live pod that is not Ready becomes Ready. */
async function readyAll(bed: TestBed): Promise<void> {
  for (const p of await livePods(bed)) if (!isPodReady(p)) await setPodReady(bed, p);
}

/** What `kubectl rollout status` decides from a Deployment: done, waiting, or an error. */
function rolloutStatus(d: Json): 'done' | 'waiting' | 'error' {
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return 'waiting';
  const progressing = (s.conditions ?? []).find((c: Json) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return 'error';
  if ((s.updatedReplicas ?? 0) < d.spec.replicas) return 'waiting';
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return 'waiting';
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return 'waiting';
  return 'done';
}

const condition = (d: Json, type: string): Json | undefined => (d.status?.conditions ?? []).find((c: Json) => c.type === type);

async function rolledOut(h: Harness, name = 'web'): Promise<Json> {
  return h.bed.until(async () => {
    await readyAll(h.bed);
    const d = await getDeployment(h.bed, name);
    return rolloutStatus(d) === 'done' && condition(d, 'Progressing')?.reason === 'NewReplicaSetAvailable' ? d : undefined;
  }, 8000, `${name} rolled out`);
}

async function setImage(bed: TestBed, image: string, name = 'web'): Promise<void> {
  await deployments(bed).patch('default', name, 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } });
}

describe('DeploymentController', () => {
  it('creates a ReplicaSet named after the template hash, its pods, and the status rollout status reads', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 3));
      const [rs] = await bed.until(async () => { const r = await ownedReplicaSets(bed); return r.length === 1 && r; });
      const hash = rs!.metadata.labels['pod-template-hash'];
      assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
      assert.equal(rs!.metadata.name, `web-${hash}`);
      assert.deepEqual(rs!.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
      assert.equal(rs!.spec.template.metadata.labels['pod-template-hash'], hash);
      assert.equal(rs!.metadata.annotations['deployment.kubernetes.io/revision'], '1');
      assert.equal(rs!.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '3');
      assert.equal(rs!.metadata.annotations['deployment.kubernetes.io/max-replicas'], '4'); // 3 + ceil(25% of 3)
      assert.equal(rs!.spec.replicas, 3);
      assert.ok(bed.events.some((e) => e.object === 'Deployment/default/web' && e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set web-${hash} to 3`));

      const d = await rolledOut(h);
      assert.equal(rolloutStatus(d), 'done');
      assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
      assert.deepEqual(
        { observedGeneration: d.status.observedGeneration, replicas: d.status.replicas, updatedReplicas: d.status.updatedReplicas, readyReplicas: d.status.readyReplicas, availableReplicas: d.status.availableReplicas, unavailableReplicas: d.status.unavailableReplicas },
        { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: undefined },
      );
      assert.deepEqual(
        { status: condition(d, 'Available')?.status, reason: condition(d, 'Available')?.reason },
        { status: 'True', reason: 'MinimumReplicasAvailable' },
      );
      assert.equal(condition(d, 'Progressing')?.status, 'True');
      assert.equal(condition(d, 'Progressing')?.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
      const ps = await livePods(bed);
      assert.equal(ps.length, 3);
      assert.ok(ps.every((p) => p.metadata.labels?.['pod-template-hash'] === hash && p.metadata.generateName === `web-${hash}-`));
    });
  });

  it('reports MinimumReplicasUnavailable until enough pods are available', async () => {
    await withHarness(async (h) => {
      await deployments(h.bed).create(deployment('web', 4));
      await h.bed.until(async () => (await livePods(h.bed)).length === 4);
      await h.settle();
      const d = await getDeployment(h.bed);
      assert.equal(condition(d, 'Available')?.status, 'False');
      assert.equal(condition(d, 'Available')?.reason, 'MinimumReplicasUnavailable');
      assert.equal(d.status.unavailableReplicas, 4);
      assert.equal(rolloutStatus(d), 'waiting');
      const [p1, p2, p3] = await livePods(h.bed);
      for (const p of [p1, p2, p3]) await setPodReady(h.bed, p!);
      // 4 - floor(25% of 4) = 3 available is the minimum.
      await h.bed.until(async () => condition(await getDeployment(h.bed), 'Available')?.status === 'True', 5000, 'Available');
    });
  });

  for (const c of [
    { name: 'maxSurge 1, maxUnavailable 1', replicas: 4, rolling: { maxSurge: 1, maxUnavailable: 1 }, surge: 1, unavailable: 1 },
    { name: 'maxSurge 0, maxUnavailable 1', replicas: 3, rolling: { maxSurge: 0, maxUnavailable: 1 }, surge: 0, unavailable: 1 },
    { name: 'percentages (25% of 10: surge 3, unavailable 2)', replicas: 10, rolling: { maxSurge: '25%', maxUnavailable: '25%' }, surge: 3, unavailable: 2 },
    { name: 'maxSurge 2, maxUnavailable 0', replicas: 3, rolling: { maxSurge: 2, maxUnavailable: 0 }, surge: 2, unavailable: 0 },
  ]) {
    it(`rolls out within maxSurge/maxUnavailable at every step (${c.name})`, async () => {
      await withHarness(async (h) => {
        const { bed } = h;
        await deployments(bed).create(deployment('web', c.replicas, { strategy: { type: 'RollingUpdate', rollingUpdate: c.rolling } }));
        await rolledOut(h);
        const [oldRS] = await ownedReplicaSets(bed);
        await setImage(bed, 'nginx:1.26');
        let steps = 0;
        for (;;) {
          await h.settle();
          const live = await livePods(bed);
          const rss = await ownedReplicaSets(bed);
          const specTotal = rss.reduce((n, rs) => n + rs.spec.replicas, 0);
          assert.ok(live.length <= c.replicas + c.surge, `step ${steps}: ${live.length} pods > ${c.replicas} + ${c.surge}`);
          assert.ok(specTotal <= c.replicas + c.surge, `step ${steps}: ReplicaSets want ${specTotal}`);
          const ready = live.filter(isPodReady).length;
          assert.ok(ready >= c.replicas - c.unavailable, `step ${steps}: only ${ready} ready`);
          const d = await getDeployment(bed);
          if (rolloutStatus(d) === 'done') break;
          // The kubelet brings up one new pod.
          const next = live.find((p) => !isPodReady(p));
          assert.ok(next, `step ${steps}: stuck with every pod ready: ${JSON.stringify(d.status)}`);
          await setPodReady(bed, next);
          assert.ok(++steps < 50, 'too many steps');
        }
        const d = await getDeployment(bed);
        assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
        const rss = await ownedReplicaSets(bed);
        assert.equal(rss.length, 2);
        const old = rss.find((rs) => rs.metadata.uid === oldRS!.metadata.uid)!;
        assert.equal(old.spec.replicas, 0);
        const fresh = rss.find((rs) => rs !== old)!;
        assert.equal(fresh.metadata.annotations['deployment.kubernetes.io/revision'], '2');
        assert.equal(fresh.spec.replicas, c.replicas);
        const pods2 = await livePods(bed);
        assert.ok(pods2.every((p) => (p.spec as Json).containers[0].image === 'nginx:1.26'));
        assert.ok(bed.events.some((e) => e.message === `Scaled down replica set ${old.metadata.name} to 0`));
      });
    });
  }

  it('Recreate scales the old ReplicaSet to zero and waits for its pods to be gone', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 2, { strategy: { type: 'Recreate' } }));
      await rolledOut(h);
      // Hold one old pod in Terminating with a finalizer.
      const [held] = await livePods(bed);
      const copy = structuredClone(held!);
      copy.metadata.finalizers = ['example.com/hold'];
      await pods(bed).update(copy);
      await setImage(bed, 'nginx:1.26');
      await bed.until(async () => (await livePods(bed)).length === 0, 5000, 'old pods deleted');
      await h.settle();
      let rss = await ownedReplicaSets(bed);
      assert.equal(rss.length, 1, 'no new ReplicaSet while an old pod is terminating');
      assert.equal(rss[0]!.spec.replicas, 0);
      const terminating = await pods(bed).get('default', held!.metadata.name!);
      assert.ok(terminating.metadata.deletionTimestamp);
      terminating.metadata.finalizers = [];
      await pods(bed).update(terminating);
      const d = await rolledOut(h);
      rss = await ownedReplicaSets(bed);
      assert.equal(rss.length, 2);
      assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
      assert.ok((await livePods(bed)).every((p) => (p.spec as Json).containers[0].image === 'nginx:1.26'));
    });
  });

  it('makes no rollout progress while paused, still scales, and resumes', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 2));
      await rolledOut(h);
      await deployments(bed).patch('default', 'web', 'merge', { spec: { paused: true } });
      await bed.until(async () => condition(await getDeployment(bed), 'Progressing')?.reason === 'DeploymentPaused', 5000, 'paused condition');
      const paused = condition(await getDeployment(bed), 'Progressing')!;
      assert.equal(paused.status, 'Unknown');
      assert.equal(paused.message, 'Deployment is paused');
      await setImage(bed, 'nginx:1.26');
      await deployments(bed).patch('default', 'web', 'merge', { spec: { replicas: 3 } });
      await bed.until(async () => (await livePods(bed)).length === 3, 5000, 'scaled while paused');
      await h.settle();
      let rss = await ownedReplicaSets(bed);
      assert.equal(rss.length, 1, 'no new ReplicaSet while paused');
      assert.equal(rss[0]!.spec.replicas, 3);
      assert.equal(rss[0]!.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '3');
      const d0 = await getDeployment(bed);
      assert.equal(d0.status.observedGeneration, d0.metadata.generation);

      await deployments(bed).patch('default', 'web', 'merge', { spec: { paused: false } });
      await bed.until(async () => {
        const c = condition(await getDeployment(bed), 'Progressing');
        return c && c.reason !== 'DeploymentPaused';
      }, 5000, 'resumed');
      const d = await rolledOut(h);
      assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
      rss = await ownedReplicaSets(bed);
      assert.equal(rss.length, 2);
      assert.ok((await livePods(bed)).every((p) => (p.spec as Json).containers[0].image === 'nginx:1.26'));
    });
  });

  it('rolls back by re-applying an old template: the old ReplicaSet comes back with a new revision', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 2));
      await rolledOut(h);
      const [first] = await ownedReplicaSets(bed);
      await setImage(bed, 'nginx:1.26');
      await bed.until(async () => (await ownedReplicaSets(bed)).length === 2);
      await rolledOut(h);
      // What `kubectl rollout undo` does: the old ReplicaSet's template, without the hash label.
      const template = structuredClone(first!.spec.template);
      delete template.metadata.labels['pod-template-hash'];
      await deployments(bed).patch('default', 'web', 'merge', { spec: { template } });
      await bed.until(async () => (await getDeployment(bed)).metadata.annotations?.['deployment.kubernetes.io/revision'] === '3', 5000, 'revision 3');
      const d = await rolledOut(h);
      const rss = await ownedReplicaSets(bed);
      assert.equal(rss.length, 2, 'no third ReplicaSet');
      const back = rss.find((rs) => rs.metadata.name === first!.metadata.name)!;
      assert.equal(back.metadata.uid, first!.metadata.uid);
      assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '3');
      assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
      assert.equal(back.spec.replicas, 2);
      assert.equal(d.status.updatedReplicas, 2);
      assert.ok((await livePods(bed)).every((p) => (p.spec as Json).containers[0].image === 'nginx:1.25'));
    });
  });

  it('rollout restart (a template annotation) makes a new ReplicaSet', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 1));
      await rolledOut(h);
      await deployments(bed).patch('default', 'web', 'strategic', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } } } });
      await bed.until(async () => (await ownedReplicaSets(bed)).length === 2, 5000, 'second ReplicaSet');
      const d = await rolledOut(h);
      assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
      const [p] = await livePods(bed);
      assert.equal(p!.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], '2024-01-01T00:00:00Z');
    });
  });

  it('keeps at most revisionHistoryLimit old ReplicaSets', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 1, { revisionHistoryLimit: 1 }));
      await rolledOut(h);
      for (const tag of ['1.26', '1.27', '1.28']) {
        await setImage(bed, `nginx:${tag}`);
        await bed.until(async () => (await getDeployment(bed)).status?.observedGeneration === (await getDeployment(bed)).metadata.generation);
        await rolledOut(h);
      }
      await h.settle();
      const rss = await ownedReplicaSets(bed);
      const revisions = rss.map((rs) => rs.metadata.annotations['deployment.kubernetes.io/revision']).sort();
      assert.deepEqual(revisions, ['3', '4']);
    });
  });

  it('scales proportionally when replicas change mid-rollout', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 10, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
      await rolledOut(h);
      const [oldRS] = await ownedReplicaSets(bed);
      await setImage(bed, 'nginx:1.26');
      // New pods never become ready: the rollout stops at old 8 + new 5.
      await h.settle();
      let rss = await ownedReplicaSets(bed);
      const sizes = () => {
        const old = rss.find((rs) => rs.metadata.uid === oldRS!.metadata.uid)!;
        const fresh = rss.find((rs) => rs !== old)!;
        return [old.spec.replicas, fresh.spec.replicas];
      };
      assert.deepEqual(sizes(), [8, 5]);
      await deployments(bed).patch('default', 'web', 'merge', { spec: { replicas: 20 } });
      await bed.until(async () => { rss = await ownedReplicaSets(bed); const [o, n] = sizes(); return o! + n! === 23; }, 5000, 'scaled to 23');
      await h.settle();
      rss = await ownedReplicaSets(bed);
      // 8·23/13 → 14, 5·23/13 → 9.
      assert.deepEqual(sizes(), [14, 9]);
      assert.ok(rss.every((rs) => rs.metadata.annotations['deployment.kubernetes.io/desired-replicas'] === '20'));
    });
  });

  it('reports ProgressDeadlineExceeded when a rollout makes no progress in time', async () => {
    await withHarness(async (h) => {
      const { bed } = h;
      await deployments(bed).create(deployment('web', 2, { progressDeadlineSeconds: 1 }));
      const d = await bed.until(async () => {
        const x = await getDeployment(bed);
        return condition(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? x : undefined;
      }, 8000, 'ProgressDeadlineExceeded');
      const c = condition(d, 'Progressing')!;
      assert.equal(c.status, 'False');
      assert.match(c.message, /^ReplicaSet "web-[a-z0-9]+" has timed out progressing\.$/);
      assert.equal(rolloutStatus(d), 'error');
    });
  });
});
