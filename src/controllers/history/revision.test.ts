import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { testBed } from '../testing.ts';
import { canonicalJson, ensureRevision, hashRevisionData, templateOf, templatePatch, truncateHistory } from './revision.ts';

describe('controller revisions', () => {
  it('hashes data independent of key order, in the safe alphabet, varying with the collision count', () => {
    const a = hashRevisionData({ x: 1, y: { b: 2, a: 1 } });
    assert.equal(a, hashRevisionData({ y: { a: 1, b: 2 }, x: 1 }));
    assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.notEqual(a, hashRevisionData({ x: 1, y: { b: 2, a: 1 } }, 1));
    assert.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null }), '{"a":null,"b":[1,{"c":2,"d":1}]}');
  });

  it('stores the template as a replacing patch and reads it back', () => {
    const owner: KObject = { metadata: { name: 'x' }, spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [] } } } };
    const patch = templatePatch(owner) as { spec: { template: Record<string, unknown> } };
    assert.equal(patch.spec.template.$patch, 'replace');
    assert.deepEqual(templateOf({ metadata: {}, data: patch }), (owner.spec as Record<string, unknown>).template);
  });

  it('reuses an equal revision, renumbering it on rollback, and truncates old ones', async () => {
    const tb = await testBed();
    try {
      const sets = tb.api.resource('apps', 'v1', 'statefulsets');
      const revApi = tb.api.resource('apps', 'v1', 'controllerrevisions');
      const template = (image: string) => ({ metadata: { labels: { app: 'r' } }, spec: { containers: [{ name: 'c', image }] } });
      const owner = await sets.create({
        apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'r', namespace: 'default' },
        spec: { selector: { matchLabels: { app: 'r' } }, serviceName: 'r', template: template('v1') },
      });
      const list = async () => (await revApi.list('default')).items;
      const r1 = (await ensureRevision(revApi, owner, [], 0)).revision;
      assert.equal(r1.revision, 1);
      assert.equal(r1.metadata.labels!.app, 'r');
      assert.equal(r1.metadata.ownerReferences![0]!.uid, owner.metadata.uid);
      // Not yet in the caller's cache: AlreadyExists is recognised as our own.
      assert.equal((await ensureRevision(revApi, owner, [], 0)).revision.metadata.name, r1.metadata.name);

      const v2 = { ...owner, spec: { ...(owner.spec as object), template: template('v2') } };
      const r2 = (await ensureRevision(revApi, v2, await list(), 0)).revision;
      assert.equal(r2.revision, 2);
      // Back to v1: the old revision becomes number 3.
      const back = (await ensureRevision(revApi, owner, await list(), 0)).revision;
      assert.equal(back.metadata.name, r1.metadata.name);
      assert.equal(back.revision, 3);

      await truncateHistory(revApi, await list(), new Set([back.metadata.name!]), 0);
      assert.deepEqual((await list()).map((r) => r.metadata.name), [r1.metadata.name]);
    } finally {
      await tb.close();
    }
  });
});
