import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed, type TestBed } from '../testing.ts';
import type { ApiClient, ResourceInterface } from '../../client/types.ts';
import { ReplicaSetController } from './controller.ts';
import { livePods, pods, podTemplate, setPodReady, settled } from './testing.ts';

const rsApi = (bed: TestBed) => bed.api.resource('apps', 'v1', 'replicasets');

function replicaSet(name: string, replicas: number, extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }), ...extra },
  };
}

async function withBed(fn: (bed: TestBed, rsc: ReplicaSetController) => Promise<void>, opts: { now?: () => number; api?: (api: ApiClient) => ApiClient } = {}): Promise<void> {
  const bed = await testBed({ now: opts.now });
  if (opts.api) bed.ctx.api = opts.api(bed.ctx.api);
  const rsc = new ReplicaSetController();
  try {
    await bed.run(rsc);
    await fn(bed, rsc);
  } finally {
    await bed.close();
  }
}

async function rsStatus(bed: TestBed, name: string): Promise<Record<string, unknown>> {
  return ((await rsApi(bed).get('default', name)).status ?? {}) as Record<string, unknown>;
}

describe('ReplicaSetController', () => {
  it('creates spec.replicas pods it controls and replaces a deleted one', async () => {
    await withBed(async (bed, rsc) => {
      const rs = await rsApi(bed).create(replicaSet('web', 3));
      const created = await bed.until(async () => { const p = await livePods(bed); return p.length === 3 && p; }, 5000, '3 pods');
      for (const p of created) {
        assert.match(p.metadata.name!, /^web-[a-z0-9]{5}$/);
        assert.equal(p.metadata.labels?.app, 'web');
        assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      }
      await bed.until(async () => (await rsStatus(bed, 'web')).replicas === 3, 5000, 'status.replicas 3');
      const victim = created[0]!;
      await pods(bed).delete('default', victim.metadata.name!);
      const after = await bed.until(async () => {
        const p = await livePods(bed);
        return p.length === 3 && !p.some((x) => x.metadata.name === victim.metadata.name) && p;
      }, 5000, 'replacement pod');
      assert.equal(after.length, 3);
      await settled(bed, [rsc]);
      assert.equal((await livePods(bed)).length, 3);
      assert.equal(bed.events.filter((e) => e.reason === 'SuccessfulCreate').length, 4);
      assert.match(bed.events.find((e) => e.reason === 'SuccessfulCreate')!.message, /^Created pod: web-/);
    });
  });

  it('reports ready, available and fully labeled replicas and the observed generation', async () => {
    await withBed(async (bed, rsc) => {
      await rsApi(bed).create(replicaSet('web', 2));
      const ps = await bed.until(async () => { const p = await livePods(bed); return p.length === 2 && p; });
      await setPodReady(bed, ps[0]!);
      await bed.until(async () => (await rsStatus(bed, 'web')).readyReplicas === 1, 5000, 'one ready');
      await setPodReady(bed, ps[1]!);
      await bed.until(async () => (await rsStatus(bed, 'web')).availableReplicas === 2, 5000, 'two available');
      await settled(bed, [rsc]);
      const rs = await rsApi(bed).get('default', 'web');
      assert.deepEqual(rs.status, { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    });
  });

  it('counts a Ready pod as available only after minReadySeconds', async () => {
    let now = Date.parse('2024-01-01T00:00:00Z');
    await withBed(async (bed) => {
      await rsApi(bed).create(replicaSet('web', 1, { minReadySeconds: 30 }));
      const [p] = await bed.until(async () => { const x = await livePods(bed); return x.length === 1 && x; });
      await setPodReady(bed, p!, true, now);
      await bed.until(async () => (await rsStatus(bed, 'web')).readyReplicas === 1);
      assert.equal((await rsStatus(bed, 'web')).availableReplicas, undefined);
      now += 31_000;
      // Any event makes the controller look again (in production a timer does).
      await rsApi(bed).patch('default', 'web', 'merge', { metadata: { annotations: { poke: '1' } } });
      await bed.until(async () => (await rsStatus(bed, 'web')).availableReplicas === 1, 5000, 'available after minReadySeconds');
    }, { now: () => now });
  });

  it('scales down by deleting not-ready pods before ready ones', async () => {
    await withBed(async (bed, rsc) => {
      await rsApi(bed).create(replicaSet('web', 4));
      const ps = await bed.until(async () => { const p = await livePods(bed); return p.length === 4 && p; });
      const notReady = ps[2]!;
      for (const p of ps) if (p !== notReady) await setPodReady(bed, p);
      await bed.until(async () => (await rsStatus(bed, 'web')).readyReplicas === 3);
      await rsApi(bed).patch('default', 'web', 'merge', { spec: { replicas: 3 } });
      await bed.until(async () => (await livePods(bed)).length === 3, 5000, 'scale down to 3');
      await settled(bed, [rsc]);
      const left = (await livePods(bed)).map((p) => p.metadata.name);
      assert.ok(!left.includes(notReady.metadata.name), 'the not-ready pod goes first');
      assert.equal(left.length, 3);
      assert.ok(bed.events.some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted pod: ${notReady.metadata.name}`));
      const status = await rsStatus(bed, 'web');
      assert.equal(status.replicas, 3);
      assert.equal(status.observedGeneration, 2);
    });
  });

  it('never overshoots while events pour in', async () => {
    await withBed(async (bed, rsc) => {
      let added = 0;
      const w = await pods(bed).watch('default', {}, (ev) => { if (ev.type === 'ADDED') added++; });
      try {
        await rsApi(bed).create(replicaSet('web', 20));
        // Pile on events: ReplicaSet updates and pod status churn while pods are created.
        for (let i = 0; i < 20; i++) {
          await rsApi(bed).patch('default', 'web', 'merge', { metadata: { annotations: { churn: String(i) } } });
          const live = await livePods(bed);
          if (live[0]) await setPodReady(bed, live[0], i % 2 === 0).catch(() => {});
        }
        await bed.until(async () => (await livePods(bed)).length === 20, 5000, '20 pods');
        await settled(bed, [rsc], 150);
        assert.equal(added, 20, 'exactly 20 pods were ever created');
        assert.equal((await livePods(bed)).length, 20);
        assert.deepEqual(rsc.expectationsFor('default/web'), { add: 0, del: 0 });
      } finally {
        w.close();
      }
    });
  });

  it('adopts matching orphans and releases pods that stop matching', async () => {
    await withBed(async (bed, rsc) => {
      const orphan = await pods(bed).create({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'default', labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
      });
      const rs = await rsApi(bed).create(replicaSet('web', 2));
      await bed.until(async () => (await livePods(bed)).length === 2, 5000, 'two pods');
      await settled(bed, [rsc]);
      const adopted = await pods(bed).get('default', 'stray');
      assert.equal(adopted.metadata.uid, orphan.metadata.uid);
      assert.equal(adopted.metadata.ownerReferences?.[0]?.uid, rs.metadata.uid);
      assert.equal((await livePods(bed)).length, 2, 'only one new pod was needed');

      // Relabel it: it is released and replaced.
      const fresh = await pods(bed).get('default', 'stray');
      fresh.metadata.labels = { app: 'debug' };
      await pods(bed).update(fresh);
      await bed.until(async () => {
        const p = await pods(bed).get('default', 'stray');
        return !p.metadata.ownerReferences?.length;
      }, 5000, 'release');
      await bed.until(async () => (await livePods(bed, 'default', ['app', 'web'])).length === 2, 5000, 'replacement');
    });
  });

  it('leaves pods controlled by something else alone', async () => {
    await withBed(async (bed, rsc) => {
      await pods(bed).create({
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name: 'taken', namespace: 'default', labels: { app: 'web' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'other', uid: 'other-uid', controller: true }],
        },
        spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
      });
      await rsApi(bed).create(replicaSet('web', 1));
      await bed.until(async () => (await livePods(bed)).length === 2);
      await settled(bed, [rsc]);
      const taken = await pods(bed).get('default', 'taken');
      assert.equal(taken.metadata.ownerReferences?.[0]?.uid, 'other-uid');
    });
  });

  it('creates in slow-start batches and records FailedCreate when creation fails', async () => {
    let attempts = 0;
    const failing = (api: ApiClient): ApiClient => ({
      resource(group, version, resource) {
        const r = api.resource(group, version, resource);
        if (resource !== 'pods') return r;
        return new Proxy(r, {
          get(target, prop, receiver) {
            if (prop === 'create') return async () => { attempts++; throw Object.assign(new Error('pods "web" is forbidden: exceeded quota'), { code: 403 }); };
            const v = Reflect.get(target, prop, receiver);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }) as ResourceInterface;
      },
    });
    await withBed(async (bed) => {
      await rsApi(bed).create(replicaSet('web', 10));
      await bed.until(() => bed.events.some((e) => e.reason === 'FailedCreate'), 5000, 'FailedCreate');
      // Each sync tries one create (the first slow-start batch) and stops; the status write
      // that records the failure wakes the controller once more before backoff sets in.
      assert.ok(attempts <= 2, `one create per sync (${attempts})`);
      const ev = bed.events.find((e) => e.reason === 'FailedCreate')!;
      assert.equal(ev.type, 'Warning');
      assert.equal(ev.object, 'ReplicaSet/default/web');
      assert.match(ev.message, /^Error creating: .*exceeded quota/);
      const status = await bed.until(async () => {
        const s = await rsStatus(bed, 'web');
        return (s.conditions as unknown[] | undefined)?.length ? s : undefined;
      }, 5000, 'ReplicaFailure condition');
      const cond = (status.conditions as Record<string, string>[])[0]!;
      assert.equal(cond.type, 'ReplicaFailure');
      assert.equal(cond.reason, 'FailedCreate');
      // Retries back off: far fewer attempts than replicas within a short time.
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(attempts < 10, `backoff keeps attempts low (${attempts})`);
    }, { api: failing });
  });
});
