import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { StatefulSetController } from './controller.ts';

const NS = 'default';

interface SetOpts {
  replicas?: number;
  image?: string;
  policy?: 'OrderedReady' | 'Parallel';
  partition?: number;
  onDelete?: boolean;
  claims?: boolean;
  whenScaled?: 'Retain' | 'Delete';
  whenDeleted?: 'Retain' | 'Delete';
}

function statefulSet(name: string, o: SetOpts = {}): KObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: NS },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: `${name}-svc`,
      selector: { matchLabels: { app: name } },
      podManagementPolicy: o.policy ?? 'OrderedReady',
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } },
      ...(o.whenScaled || o.whenDeleted
        ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: o.whenDeleted ?? 'Retain', whenScaled: o.whenScaled ?? 'Retain' } } : {}),
      template: {
        metadata: { labels: { app: name } },
        // A real set would mount the claim (volumeMounts: [{name: www}]); the apps/v1 strategy
        // currently rejects mounts of claim-template volumes, which Kubernetes allows.
        spec: { containers: [{ name: 'c', image: o.image ?? 'app:v1' }] },
      },
      ...(o.claims ? {
        volumeClaimTemplates: [{
          metadata: { name: 'www', labels: { tier: 'data' } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        }],
      } : {}),
    },
  };
}

const pods = (tb: TestBed) => tb.api.resource('', 'v1', 'pods');
const sets = (tb: TestBed) => tb.api.resource('apps', 'v1', 'statefulsets');

async function podsOf(tb: TestBed, app: string): Promise<KObject[]> {
  const items = (await pods(tb).list(NS, { labelSelector: `app=${app}` })).items;
  return items.sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!, 'en', { numeric: true }));
}

const names = (ps: KObject[]): string => ps.map((p) => p.metadata.name).join(',');
const imageOf = (pod: KObject): string => ((pod.spec as { containers: { image: string }[] }).containers[0]!.image);

async function setStatus(tb: TestBed, name: string, phase: string, ready: boolean): Promise<void> {
  const fresh = await pods(tb).get(NS, name);
  fresh.status = {
    ...(fresh.status as object), phase,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
  };
  await pods(tb).updateStatus(fresh);
}

/** Plays the kubelet: the pod is running and ready. */
const markReady = (tb: TestBed, name: string): Promise<void> => setStatus(tb, name, 'Running', true);

async function withBed(fn: (tb: TestBed, ctrl: StatefulSetController) => Promise<void>): Promise<void> {
  const tb = await testBed();
  const ctrl = new StatefulSetController();
  try {
    await tb.run(ctrl);
    await fn(tb, ctrl);
  } finally {
    await tb.close();
  }
}

async function settle(tb: TestBed, ctrl: StatefulSetController): Promise<void> {
  await tb.until(async () => {
    if (!ctrl.idle) return false;
    await new Promise((r) => setTimeout(r, 50));
    return ctrl.idle;
  }, 5000, 'controller idle');
}

async function waitPods(tb: TestBed, app: string, want: string, what = want): Promise<KObject[]> {
  return tb.until(async () => { const p = await podsOf(tb, app); return names(p) === want && p; }, 5000, `pods ${what}`);
}

/** Creates the set and walks it up to all pods ready (OrderedReady needs the kubelet at each step). */
async function upAndReady(tb: TestBed, ctrl: StatefulSetController, name: string, o: SetOpts = {}): Promise<void> {
  await sets(tb).create(statefulSet(name, o));
  const n = o.replicas ?? 3;
  for (let i = 0; i < n; i++) {
    await waitPods(tb, name, Array.from({ length: i + 1 }, (_, j) => `${name}-${j}`).join(','));
    await markReady(tb, `${name}-${i}`);
  }
  await tb.until(async () => ((await sets(tb).get(NS, name)).status as Record<string, number>).readyReplicas === n, 5000, 'all ready');
  await settle(tb, ctrl);
}

describe('StatefulSetController', () => {
  it('creates pods in order, each after the previous is Running and Ready, with stable identity', async () => {
    await withBed(async (tb, ctrl) => {
      await sets(tb).create(statefulSet('web'));
      await waitPods(tb, 'web', 'web-0');
      await settle(tb, ctrl);
      assert.equal(names(await podsOf(tb, 'web')), 'web-0', 'web-1 waits for web-0');

      await setStatus(tb, 'web-0', 'Running', false);
      await settle(tb, ctrl);
      assert.equal(names(await podsOf(tb, 'web')), 'web-0', 'running but not ready is not enough');

      await markReady(tb, 'web-0');
      await waitPods(tb, 'web', 'web-0,web-1');
      await markReady(tb, 'web-1');
      const all = await waitPods(tb, 'web', 'web-0,web-1,web-2');

      const pod = all[1]!;
      const spec = pod.spec as Record<string, unknown>;
      assert.equal(spec.hostname, 'web-1');
      assert.equal(spec.subdomain, 'web-svc');
      assert.equal(pod.metadata.labels!['statefulset.kubernetes.io/pod-name'], 'web-1');
      assert.equal(pod.metadata.labels!['apps.kubernetes.io/pod-index'], '1');
      const ref = pod.metadata.ownerReferences![0]!;
      assert.deepEqual([ref.kind, ref.name, ref.controller, ref.blockOwnerDeletion], ['StatefulSet', 'web', true, true]);

      await markReady(tb, 'web-2');
      const status = await tb.until(async () => {
        const s = (await sets(tb).get(NS, 'web')).status as Record<string, unknown>;
        return s.readyReplicas === 3 && s;
      }, 5000, 'status');
      assert.equal(status.replicas, 3);
      assert.equal(status.availableReplicas, 3);
      assert.equal(status.currentReplicas, 3);
      assert.equal(status.updatedReplicas, 3);
      assert.equal(status.observedGeneration, 1);
      assert.ok(status.currentRevision);
      assert.equal(status.currentRevision, status.updateRevision);
      assert.equal(pod.metadata.labels!['controller-revision-hash'], status.updateRevision);
      const revs = (await tb.api.resource('apps', 'v1', 'controllerrevisions').list(NS)).items;
      assert.deepEqual(revs.map((r) => r.metadata.name), [status.updateRevision]);
    });
  });

  it('scales down in reverse order, one pod at a time', async () => {
    await withBed(async (tb, ctrl) => {
      await upAndReady(tb, ctrl, 'db');
      // Hold web-2 in Terminating with a finalizer, to see that db-1 waits for it.
      await pods(tb).patch(NS, 'db-2', 'merge', { metadata: { finalizers: ['test.skiff.dev/hold'] } });
      await sets(tb).patch(NS, 'db', 'merge', { spec: { replicas: 1 } });
      await tb.until(async () => (await pods(tb).get(NS, 'db-2')).metadata.deletionTimestamp, 5000, 'db-2 terminating');
      await settle(tb, ctrl);
      assert.equal((await pods(tb).get(NS, 'db-1')).metadata.deletionTimestamp, undefined, 'db-1 waits for db-2');

      await pods(tb).patch(NS, 'db-2', 'merge', { metadata: { finalizers: null } });
      await waitPods(tb, 'db', 'db-0');
      const deletes = tb.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message);
      assert.deepEqual(deletes, ['delete Pod db-2 in StatefulSet db successful', 'delete Pod db-1 in StatefulSet db successful']);
      const status = await tb.until(async () => {
        const s = (await sets(tb).get(NS, 'db')).status as Record<string, number>;
        return s.replicas === 1 && s;
      }, 5000, 'status replicas 1');
      assert.equal(status.readyReplicas, 1);
    });
  });

  it('recreates a deleted or failed pod with the same name', async () => {
    await withBed(async (tb, ctrl) => {
      await upAndReady(tb, ctrl, 'kv', { replicas: 2 });
      const before = await pods(tb).get(NS, 'kv-1');
      await pods(tb).delete(NS, 'kv-1');
      const after = await tb.until(async () => {
        const p = await pods(tb).tryGet(NS, 'kv-1');
        return p && p.metadata.uid !== before.metadata.uid && p;
      }, 5000, 'kv-1 recreated');
      assert.equal((after.spec as Record<string, unknown>).hostname, 'kv-1');

      await markReady(tb, 'kv-1');
      const first = await pods(tb).get(NS, 'kv-0');
      await setStatus(tb, 'kv-0', 'Failed', false);
      await tb.until(async () => {
        const p = await pods(tb).tryGet(NS, 'kv-0');
        return p && p.metadata.uid !== first.metadata.uid;
      }, 5000, 'failed kv-0 replaced');
      assert.ok(tb.events.some((e) => e.reason === 'RecreatingFailedPod'));
    });
  });

  it('creates claims from volumeClaimTemplates before the pod and keeps them on scale-down', async () => {
    await withBed(async (tb, ctrl) => {
      const pvcs = tb.api.resource('', 'v1', 'persistentvolumeclaims');
      await upAndReady(tb, ctrl, 'pg', { replicas: 2, claims: true });
      const claims = (await pvcs.list(NS)).items.map((c) => c.metadata.name).sort();
      assert.deepEqual(claims, ['www-pg-0', 'www-pg-1']);
      const claim = await pvcs.get(NS, 'www-pg-0');
      assert.deepEqual(claim.metadata.labels, { tier: 'data', app: 'pg' });
      assert.equal(claim.metadata.ownerReferences, undefined, 'Retain: the claim outlives the set');
      const pod = await pods(tb).get(NS, 'pg-1');
      const volumes = (pod.spec as { volumes: unknown[] }).volumes;
      assert.deepEqual(volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-pg-1' } }]);
      // The claim was written before the pod.
      const order = tb.events.filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message.split(' ').slice(0, 3).join(' '));
      assert.deepEqual(order, ['create Claim www-pg-0', 'create Pod pg-0', 'create Claim www-pg-1', 'create Pod pg-1']);

      await sets(tb).patch(NS, 'pg', 'merge', { spec: { replicas: 1 } });
      await waitPods(tb, 'pg', 'pg-0');
      await settle(tb, ctrl);
      assert.ok(await pvcs.tryGet(NS, 'www-pg-1'), 'claims are not deleted with their pod');

      // Scaling back up reuses the claim.
      await sets(tb).patch(NS, 'pg', 'merge', { spec: { replicas: 2 } });
      await waitPods(tb, 'pg', 'pg-0,pg-1');
      assert.equal((await pvcs.list(NS)).items.length, 2);
    });
  });

  it('retention policy: claims owned by the set (whenDeleted) or by a condemned pod (whenScaled)', async () => {
    await withBed(async (tb, ctrl) => {
      const pvcs = tb.api.resource('', 'v1', 'persistentvolumeclaims');
      await upAndReady(tb, ctrl, 'es', { replicas: 2, claims: true, whenScaled: 'Delete', whenDeleted: 'Delete' });
      const set = await sets(tb).get(NS, 'es');
      const pod1 = await pods(tb).get(NS, 'es-1');
      await sets(tb).patch(NS, 'es', 'merge', { spec: { replicas: 1 } });
      await waitPods(tb, 'es', 'es-0');
      const claim = await pvcs.get(NS, 'www-es-1');
      assert.deepEqual(claim.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid]), [['Pod', 'es-1', pod1.metadata.uid]]);
      assert.deepEqual((await pvcs.get(NS, 'www-es-0')).metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid]), [['StatefulSet', 'es', set.metadata.uid]]);
    });
  });

  it('rolls out in reverse ordinal order, honouring the partition', async () => {
    await withBed(async (tb, ctrl) => {
      await upAndReady(tb, ctrl, 'app', { partition: 1 });
      const v1Revision = ((await sets(tb).get(NS, 'app')).status as Record<string, string>).currentRevision;
      await sets(tb).patch(NS, 'app', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'app:v2' }] } } } });

      // app-2 first; app-1 only once app-2 is ready again.
      await tb.until(async () => { const p = await pods(tb).tryGet(NS, 'app-2'); return p && imageOf(p) === 'app:v2'; }, 5000, 'app-2 updated');
      await settle(tb, ctrl);
      assert.equal(imageOf(await pods(tb).get(NS, 'app-1')), 'app:v1', 'app-1 waits for app-2 to be ready');
      await markReady(tb, 'app-2');
      await tb.until(async () => { const p = await pods(tb).tryGet(NS, 'app-1'); return p && imageOf(p) === 'app:v2'; }, 5000, 'app-1 updated');
      await markReady(tb, 'app-1');
      const status = await tb.until(async () => {
        const s = (await sets(tb).get(NS, 'app')).status as Record<string, unknown>;
        return s.updatedReplicas === 2 && s.readyReplicas === 3 && s;
      }, 5000, 'partial rollout status');
      await settle(tb, ctrl);
      assert.equal(imageOf(await pods(tb).get(NS, 'app-0')), 'app:v1', 'below the partition stays');
      assert.equal(status.currentRevision, v1Revision);
      assert.notEqual(status.updateRevision, v1Revision);
      assert.equal(status.currentReplicas, 1);
      assert.equal(status.observedGeneration, 2);
      const order = tb.events.filter((e) => e.reason === 'RollingUpdate').map((e) => e.message.split(' ')[1]);
      assert.deepEqual(order, ['app-2', 'app-1']);

      // Below the partition, a recreated pod keeps the current revision.
      await pods(tb).delete(NS, 'app-0');
      await tb.until(async () => { const p = await pods(tb).tryGet(NS, 'app-0'); return p && !p.metadata.deletionTimestamp && p; }, 5000, 'app-0 back');
      assert.equal(imageOf(await pods(tb).get(NS, 'app-0')), 'app:v1');
      await markReady(tb, 'app-0');

      // Partition 0 finishes the rollout, and the update revision becomes current.
      await sets(tb).patch(NS, 'app', 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
      await tb.until(async () => { const p = await pods(tb).tryGet(NS, 'app-0'); return p && imageOf(p) === 'app:v2'; }, 5000, 'app-0 updated');
      await markReady(tb, 'app-0');
      const done = await tb.until(async () => {
        const s = (await sets(tb).get(NS, 'app')).status as Record<string, unknown>;
        return s.currentRevision === s.updateRevision && s.readyReplicas === 3 && s;
      }, 5000, 'rollout complete');
      assert.equal(done.currentReplicas, 3);
      assert.equal(done.updatedReplicas, 3);
    });
  });

  it('OnDelete updates only pods that are deleted', async () => {
    await withBed(async (tb, ctrl) => {
      await upAndReady(tb, ctrl, 'od', { replicas: 2, onDelete: true });
      await sets(tb).patch(NS, 'od', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'app:v2' }] } } } });
      await tb.until(async () => ((await sets(tb).get(NS, 'od')).status as Record<string, number>).observedGeneration === 2, 5000, 'observed');
      await settle(tb, ctrl);
      assert.deepEqual((await podsOf(tb, 'od')).map(imageOf), ['app:v1', 'app:v1']);
      await pods(tb).delete(NS, 'od-1');
      await tb.until(async () => { const p = await pods(tb).tryGet(NS, 'od-1'); return p && imageOf(p) === 'app:v2'; }, 5000, 'od-1 updated');
      assert.equal(imageOf(await pods(tb).get(NS, 'od-0')), 'app:v1');
    });
  });

  it('Parallel creates and deletes all pods at once', async () => {
    await withBed(async (tb, ctrl) => {
      await sets(tb).create(statefulSet('par', { policy: 'Parallel', replicas: 4 }));
      await waitPods(tb, 'par', 'par-0,par-1,par-2,par-3', 'all four without any ready');
      await settle(tb, ctrl);
      await sets(tb).patch(NS, 'par', 'merge', { spec: { replicas: 1 } });
      await waitPods(tb, 'par', 'par-0', 'scaled down without any ready');
    });
  });
});
