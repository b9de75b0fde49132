import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { IndexedCache, byNamespace, objectKey, splitKey } from './cache.ts';

const pod = (ns: string, name: string, node?: string, rv = '1'): KObject =>
  ({ metadata: { namespace: ns, name, resourceVersion: rv }, spec: { nodeName: node } });
const byNode = (o: KObject) => [(o.spec as { nodeName?: string }).nodeName];

test('keys are namespace/name, or name for cluster-scoped objects', () => {
  assert.equal(objectKey(pod('default', 'a')), 'default/a');
  assert.equal(objectKey({ metadata: { name: 'node-1' } }), 'node-1');
  assert.deepEqual(splitKey('default/a'), { namespace: 'default', name: 'a' });
  assert.deepEqual(splitKey('node-1'), { namespace: undefined, name: 'node-1' });
});

test('indexes follow adds, updates and deletes', () => {
  const c = new IndexedCache({ byNode, byNamespace });
  c.set(pod('default', 'a', 'n1'));
  c.set(pod('default', 'b', 'n1'));
  c.set(pod('other', 'c', 'n2'));
  c.set(pod('default', 'd')); // unscheduled: in no node bucket
  assert.deepEqual(c.byIndex('byNode', 'n1').map(objectKey).sort(), ['default/a', 'default/b']);
  assert.deepEqual(c.indexKeys('byNamespace', 'default').sort(), ['default/a', 'default/b', 'default/d']);

  const old = c.set(pod('default', 'a', 'n2', '2'));
  assert.equal(old?.metadata.resourceVersion, '1');
  assert.deepEqual(c.indexKeys('byNode', 'n1'), ['default/b']);
  assert.deepEqual(c.indexKeys('byNode', 'n2').sort(), ['default/a', 'other/c']);

  assert.equal(c.delete('default/b')?.metadata.name, 'b');
  assert.equal(c.delete('default/b'), undefined);
  assert.deepEqual(c.indexKeys('byNode', 'n1'), []);
  assert.deepEqual(c.indexValues('byNode').sort(), ['n2'], 'an emptied bucket is dropped');
  assert.equal(c.size, 3);
});

test('removal uses the values filed at insert, even if the object was mutated since', () => {
  const c = new IndexedCache({ byNode });
  const p = pod('default', 'a', 'n1');
  c.set(p);
  (p.spec as { nodeName: string }).nodeName = 'n9'; // a misbehaving caller
  c.delete('default/a');
  assert.deepEqual(c.indexValues('byNode'), []);
});

test('indexers added later are built over what is stored; a taken name throws', () => {
  const c = new IndexedCache();
  c.set(pod('default', 'a', 'n1'));
  c.addIndexers({ byNode });
  assert.deepEqual(c.indexKeys('byNode', 'n1'), ['default/a']);
  c.addIndexers({ byNode }); // the same function again is fine
  assert.throws(() => c.addIndexers({ byNode: (o) => [o.metadata.name] }), /already exists/);
  assert.throws(() => c.byIndex('nope', 'x'), /no indexer/);
});

test('an index function that throws or returns duplicates is contained', () => {
  const c = new IndexedCache({
    bad: () => { throw new Error('boom'); },
    dup: () => ['x', 'x', '', undefined],
  });
  c.set(pod('default', 'a'));
  assert.deepEqual(c.indexValues('bad'), []);
  assert.deepEqual(c.indexKeys('dup', 'x'), ['default/a']);
});
