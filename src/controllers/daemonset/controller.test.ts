import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import { DaemonSetController } from './controller.ts';
import { targetNodeName } from './eligibility.ts';

const NS = 'default';

function node(name: string, extra: { labels?: Record<string, string>; taints?: unknown[] } = {}): KObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels } }, spec: { taints: extra.taints ?? [] } };
}

function daemonSet(name: string, spec: { image?: string; nodeSelector?: Record<string, string>; tolerations?: unknown[]; maxUnavailable?: number | string; updateStrategy?: string } = {}): KObject {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: NS },
    spec: {
      selector: { matchLabels: { app: name } },
      ...(spec.updateStrategy === 'OnDelete' ? { updateStrategy: { type: 'OnDelete' } } : {}),
      ...(spec.maxUnavailable !== undefined ? { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: spec.maxUnavailable } } } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'c', image: spec.image ?? 'busybox:1' }],
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
        },
      },
    },
  };
}

async function podsOf(tb: TestBed, app: string): Promise<KObject[]> {
  return (await tb.api.resource('', 'v1', 'pods').list(NS, { labelSelector: `app=${app}` })).items;
}

const nodesOf = (pods: KObject[]): string[] => pods.map((p) => targetNodeName(p) ?? '?').sort();
const imageOf = (pod: KObject): string => ((pod.spec as { containers: { image: string }[] }).containers[0]!.image);

/** Plays the kubelet: the pod is running and ready. */
async function markReady(tb: TestBed, pod: KObject): Promise<void> {
  const pods = tb.api.resource('', 'v1', 'pods');
  const fresh = await pods.get(pod.metadata.namespace, pod.metadata.name!);
  fresh.status = {
    ...(fresh.status as object), phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
  };
  await pods.updateStatus(fresh);
}

async function withBed(fn: (tb: TestBed, ctrl: DaemonSetController) => Promise<void>): Promise<void> {
  const tb = await testBed();
  const ctrl = new DaemonSetController();
  try {
    await tb.run(ctrl);
    await fn(tb, ctrl);
  } finally {
    await tb.close();
  }
}

async function settle(tb: TestBed, ctrl: DaemonSetController): Promise<void> {
  // Idle twice in a row with a pause between: events from our own writes have landed.
  await tb.until(async () => {
    if (!ctrl.idle) return false;
    await new Promise((r) => setTimeout(r, 50));
    return ctrl.idle;
  }, 5000, 'controller idle');
}

describe('DaemonSetController', () => {
  it('puts one pod on each eligible node, pinned by node affinity', async () => {
    await withBed(async (tb, ctrl) => {
      const nodes = tb.api.resource('', 'v1', 'nodes');
      await nodes.create(node('n1', { labels: { disk: 'ssd' } }));
      await nodes.create(node('n2', { labels: { disk: 'ssd' } }));
      await nodes.create(node('n3', { labels: { disk: 'hdd' } })); // selector does not match
      await nodes.create(node('n4', { labels: { disk: 'ssd' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }));
      // Taints every daemon pod tolerates by default:
      await nodes.create(node('n5', { labels: { disk: 'ssd' }, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }));
      await nodes.create(node('n6', { labels: { disk: 'ssd' }, taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }));
      await tb.api.resource('apps', 'v1', 'daemonsets').create(daemonSet('agent', { nodeSelector: { disk: 'ssd' } }));

      const pods = await tb.until(async () => { const p = await podsOf(tb, 'agent'); return p.length === 4 && p; }, 5000, '4 pods');
      await settle(tb, ctrl);
      assert.deepEqual(nodesOf(await podsOf(tb, 'agent')), ['n1', 'n2', 'n5', 'n6']);
      const pod = pods.find((p) => targetNodeName(p) === 'n1')!;
      const spec = pod.spec as Record<string, any>;
      assert.equal(spec.nodeName, undefined, 'the scheduler binds daemon pods');
      assert.deepEqual(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
        [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]);
      const tolerated = (spec.tolerations as { key: string; effect: string }[]).map((t) => `${t.key}:${t.effect}`);
      for (const t of ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule',
        'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule']) {
        assert.ok(tolerated.includes(t), `tolerates ${t}`);
      }
      assert.equal(pod.metadata.generateName, 'agent-');
      const ref = pod.metadata.ownerReferences![0]!;
      assert.equal(ref.kind, 'DaemonSet');
      assert.equal(ref.controller, true);
      assert.equal(ref.blockOwnerDeletion, true);
      assert.ok(pod.metadata.labels!['controller-revision-hash']);

      const revs = (await tb.api.resource('apps', 'v1', 'controllerrevisions').list(NS)).items;
      assert.equal(revs.length, 1);
      assert.equal(revs[0]!.metadata.labels!['controller-revision-hash'], pod.metadata.labels!['controller-revision-hash']);

      for (const p of await podsOf(tb, 'agent')) await markReady(tb, p);
      const status = await tb.until(async () => {
        const ds = await tb.api.resource('apps', 'v1', 'daemonsets').get(NS, 'agent');
        const s = ds.status as Record<string, number>;
        return s.numberReady === 4 && s;
      }, 5000, 'status');
      assert.deepEqual({ ...status }, {
        currentNumberScheduled: 4, numberMisscheduled: 0, desiredNumberScheduled: 4, numberReady: 4,
        observedGeneration: 1, updatedNumberScheduled: 4, numberAvailable: 4, numberUnavailable: 0,
      });
    });
  });

  it('honours the template tolerations', async () => {
    await withBed(async (tb) => {
      const nodes = tb.api.resource('', 'v1', 'nodes');
      await nodes.create(node('n1'));
      await nodes.create(node('n2', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }));
      await nodes.create(node('n3', { taints: [{ key: 'other', effect: 'NoExecute' }] }));
      await tb.api.resource('apps', 'v1', 'daemonsets').create(daemonSet('tol', {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }],
      }));
      await tb.until(async () => (await podsOf(tb, 'tol')).length === 2, 5000, '2 pods');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(nodesOf(await podsOf(tb, 'tol')), ['n1', 'n2']);
    });
  });

  it('adds pods as nodes come and removes them as nodes go or stop matching', async () => {
    await withBed(async (tb, ctrl) => {
      const nodes = tb.api.resource('', 'v1', 'nodes');
      await nodes.create(node('n1', { labels: { role: 'edge' } }));
      await tb.api.resource('apps', 'v1', 'daemonsets').create(daemonSet('edge', { nodeSelector: { role: 'edge' } }));
      await tb.until(async () => (await podsOf(tb, 'edge')).length === 1, 5000, 'first pod');

      await nodes.create(node('n2', { labels: { role: 'edge' } }));
      await nodes.create(node('n3', { labels: { role: 'edge' } }));
      await tb.until(async () => nodesOf(await podsOf(tb, 'edge')).join() === 'n1,n2,n3', 5000, 'pods on new nodes');

      await nodes.delete(undefined, 'n2');
      await tb.until(async () => nodesOf(await podsOf(tb, 'edge')).join() === 'n1,n3', 5000, 'pod of deleted node gone');

      // n3 loses the label: its pod goes.
      await nodes.patch(undefined, 'n3', 'merge', { metadata: { labels: { role: 'core' } } });
      await tb.until(async () => nodesOf(await podsOf(tb, 'edge')).join() === 'n1', 5000, 'pod of unmatched node gone');

      // A NoExecute taint evicts; a NoSchedule taint would not.
      await nodes.patch(undefined, 'n1', 'merge', { spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } });
      await settle(tb, ctrl);
      assert.deepEqual(nodesOf(await podsOf(tb, 'edge')), ['n1']);
      const ds = await tb.api.resource('apps', 'v1', 'daemonsets').get(NS, 'edge');
      assert.equal((ds.status as Record<string, number>).numberMisscheduled, 1);
      await nodes.patch(undefined, 'n1', 'merge', { spec: { taints: [{ key: 'x', effect: 'NoExecute' }] } });
      await tb.until(async () => (await podsOf(tb, 'edge')).length === 0, 5000, 'evicted by NoExecute');
    });
  });

  it('replaces a deleted daemon pod and deletes duplicates', async () => {
    await withBed(async (tb, ctrl) => {
      await tb.api.resource('', 'v1', 'nodes').create(node('n1'));
      await tb.api.resource('apps', 'v1', 'daemonsets').create(daemonSet('d'));
      const [pod] = await tb.until(async () => { const p = await podsOf(tb, 'd'); return p.length === 1 && p; }, 5000, 'pod');
      await tb.api.resource('', 'v1', 'pods').delete(NS, pod!.metadata.name!);
      await tb.until(async () => { const p = await podsOf(tb, 'd'); return p.length === 1 && p[0]!.metadata.name !== pod!.metadata.name; }, 5000, 'replacement');
      await settle(tb, ctrl);
      const [kept] = await podsOf(tb, 'd');

      // An orphan with matching labels on the same node is adopted, then removed as a duplicate (the older pod stays).
      await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has one-second resolution
      await tb.api.resource('', 'v1', 'pods').create({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: NS, labels: { app: 'd' } },
        spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox:1' }] },
      });
      await tb.until(async () => tb.events.some((e) => e.reason === 'SuccessfulDelete' && e.message.includes('stray')), 5000, 'stray deleted');
      await settle(tb, ctrl);
      // stray is bound to a node, so its deletion is graceful: it is terminating, waiting for a kubelet.
      const live = (await podsOf(tb, 'd')).filter((p) => !p.metadata.deletionTimestamp);
      assert.deepEqual(live.map((p) => p.metadata.name), [kept!.metadata.name]);
    });
  });

  it('rolls out a template change one node at a time', async () => {
    await withBed(async (tb, ctrl) => {
      const nodes = tb.api.resource('', 'v1', 'nodes');
      for (const n of ['n1', 'n2', 'n3']) await nodes.create(node(n));
      const dsApi = tb.api.resource('apps', 'v1', 'daemonsets');
      await dsApi.create(daemonSet('roll', { image: 'app:v1' }));
      await tb.until(async () => (await podsOf(tb, 'roll')).length === 3, 5000, '3 pods');
      for (const p of await podsOf(tb, 'roll')) await markReady(tb, p);
      await tb.until(async () => ((await dsApi.get(NS, 'roll')).status as Record<string, number>).numberAvailable === 3, 5000, 'available');
      const oldHash = (await podsOf(tb, 'roll'))[0]!.metadata.labels!['controller-revision-hash'];

      await dsApi.patch(NS, 'roll', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'app:v2' }] } } } });
      const order: string[] = [];
      for (let step = 1; step <= 3; step++) {
        // Exactly one old pod has been replaced by a pending new one; the others still run v1.
        const pending = await tb.until(async () => {
          const pods = await podsOf(tb, 'roll');
          const fresh = pods.filter((p) => imageOf(p) === 'app:v2');
          return pods.length === 3 && fresh.length === step && fresh.find((p) => !(p.status as { phase?: string }).phase?.startsWith('Running'));
        }, 5000, `step ${step}`);
        await settle(tb, ctrl);
        const pods = await podsOf(tb, 'roll');
        assert.equal(pods.filter((p) => imageOf(p) === 'app:v1').length, 3 - step, 'only one node at a time');
        assert.notEqual(pending.metadata.labels!['controller-revision-hash'], oldHash);
        order.push(targetNodeName(pending)!);
        await markReady(tb, pending);
      }
      assert.deepEqual(order, ['n1', 'n2', 'n3']);
      const status = await tb.until(async () => {
        const s = (await dsApi.get(NS, 'roll')).status as Record<string, number>;
        return s.updatedNumberScheduled === 3 && s.numberAvailable === 3 && s;
      }, 5000, 'rolled out');
      assert.equal(status.observedGeneration, 2);
      assert.equal((await tb.api.resource('apps', 'v1', 'controllerrevisions').list(NS)).items.length, 2);
    });
  });

  it('OnDelete leaves old pods until they are deleted', async () => {
    await withBed(async (tb, ctrl) => {
      await tb.api.resource('', 'v1', 'nodes').create(node('n1'));
      const dsApi = tb.api.resource('apps', 'v1', 'daemonsets');
      await dsApi.create(daemonSet('od', { image: 'app:v1', updateStrategy: 'OnDelete' }));
      const [pod] = await tb.until(async () => { const p = await podsOf(tb, 'od'); return p.length === 1 && p; }, 5000, 'pod');
      await markReady(tb, pod!);
      await dsApi.patch(NS, 'od', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'app:v2' }] } } } });
      await tb.until(async () => ((await dsApi.get(NS, 'od')).status as Record<string, number>).observedGeneration === 2, 5000, 'observed');
      await settle(tb, ctrl);
      let pods = await podsOf(tb, 'od');
      assert.equal(imageOf(pods[0]!), 'app:v1');
      assert.equal(((await dsApi.get(NS, 'od')).status as Record<string, number>).updatedNumberScheduled, 0);
      await tb.api.resource('', 'v1', 'pods').delete(NS, pods[0]!.metadata.name!);
      pods = await tb.until(async () => { const p = await podsOf(tb, 'od'); return p.length === 1 && imageOf(p[0]!) === 'app:v2' && p; }, 5000, 'new pod');
    });
  });
});
