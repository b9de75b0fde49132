import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch } from './json-patch.ts';
import { PatchError } from './errors.ts';

const pod = () => ({
  metadata: { name: 'web', labels: { app: 'web', 'a/b': 'x', 'c~d': 'y' } },
  spec: { containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] },
});

function expectPatchError(fn: () => unknown, code: 400 | 422, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PatchError, `expected PatchError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('add sets members, inserts into arrays, and appends with -', () => {
  const out = applyJsonPatch(pod(), [
    { op: 'add', path: '/metadata/labels/tier', value: 'front' },
    { op: 'add', path: '/spec/containers/1', value: { name: 'mid' } },
    { op: 'add', path: '/spec/containers/-', value: { name: 'last' } },
  ]) as ReturnType<typeof pod>;
  assert.equal(out.metadata.labels['tier' as 'app'], 'front');
  assert.deepEqual(out.spec.containers.map((c) => c.name), ['a', 'mid', 'b', 'last']);
});

test('the input document is not changed', () => {
  const doc = pod();
  applyJsonPatch(doc, [{ op: 'remove', path: '/spec/containers/0' }, { op: 'replace', path: '/metadata/name', value: 'x' }]);
  assert.deepEqual(doc, pod());
});

test('remove and replace need an existing target', () => {
  const out = applyJsonPatch(pod(), [
    { op: 'remove', path: '/spec/containers/0' },
    { op: 'replace', path: '/spec/containers/0/image', value: 'b:2' },
  ]) as ReturnType<typeof pod>;
  assert.deepEqual(out.spec.containers, [{ name: 'b', image: 'b:2' }]);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'remove', path: '/metadata/missing' }]), 422, /not found/);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/5', value: 1 }]), 422);
});

test('~1 and ~0 unescape to / and ~', () => {
  const out = applyJsonPatch(pod(), [
    { op: 'replace', path: '/metadata/labels/a~1b', value: 'slash' },
    { op: 'remove', path: '/metadata/labels/c~0d' },
  ]) as ReturnType<typeof pod>;
  assert.deepEqual(out.metadata.labels, { app: 'web', 'a/b': 'slash' });
});

test('move and copy', () => {
  const out = applyJsonPatch(pod(), [
    { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
    { op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/application' },
  ]) as { metadata: { labels: Record<string, string> }; spec: { containers: { name: string }[] } };
  assert.deepEqual(out.spec.containers.map((c) => c.name), ['a', 'b', 'a']);
  assert.equal(out.metadata.labels['app'], undefined);
  assert.equal(out.metadata.labels['application'], 'web');
  // The copy is a separate value, not an alias of the original.
  const copied = applyJsonPatch(pod(), [
    { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
    { op: 'replace', path: '/spec/containers/2/image', value: 'changed' },
  ]) as ReturnType<typeof pod>;
  assert.equal(copied.spec.containers[0]?.image, 'a:1');
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'move', from: '/spec', path: '/spec/containers/0/x' }]), 422, /own child/);
});

test('test compares structurally and aborts the whole patch when it fails', () => {
  const ok = applyJsonPatch(pod(), [
    { op: 'test', path: '/spec/containers/0', value: { image: 'a:1', name: 'a' } },
    { op: 'replace', path: '/metadata/name', value: 'changed' },
  ]) as ReturnType<typeof pod>;
  assert.equal(ok.metadata.name, 'changed');
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'test', path: '/metadata/name', value: 'other' }]), 422, /test failed/);
});

test('an empty path addresses the whole document', () => {
  assert.deepEqual(applyJsonPatch(pod(), [{ op: 'replace', path: '', value: { a: 1 } }]), { a: 1 });
  assert.deepEqual(applyJsonPatch({}, [{ op: 'add', path: '', value: [1] }]), [1]);
});

test('malformed patches are 400', () => {
  expectPatchError(() => applyJsonPatch(pod(), { op: 'add' }), 400, /array/);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'frobnicate', path: '/a' }]), 400, /unknown op/);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'add', path: '/a' }]), 400, /missing "value"/);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'move', path: '/a' }]), 400, /from/);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'add', path: 'no-slash', value: 1 }]), 400, /pointer/);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'add', path: '/a~2', value: 1 }]), 400, /escape/);
});

test('array indexes must be in range and without leading zeros', () => {
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'add', path: '/spec/containers/3', value: {} }]), 422, /out of range/);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/01/image', value: 'x' }]), 422);
  expectPatchError(() => applyJsonPatch(pod(), [{ op: 'add', path: '/metadata/name/x', value: 1 }]), 422);
});
