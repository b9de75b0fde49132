import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../field-error.ts';
import { formatLabelSelector, selectorMatches, validateLabelSelector } from './label-selector.ts';
import { validateAnnotations } from './labels.ts';
import { nameIsDNSLabel, nameIsDNSSubdomain } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';

const messages = (errs: { field: string; message: string; type: string }[]): string[] => errs.map((e) => formatFieldError(e as never));

test('name or generateName is required', () => {
  assert.deepEqual(messages(validateObjectMeta({ namespace: 'default' }, true, nameIsDNSSubdomain)), [
    'metadata.name: Required value: name or generateName is required',
  ]);
  assert.deepEqual(validateObjectMeta({ generateName: 'web-', namespace: 'default' }, true, nameIsDNSSubdomain), []);
});

test('namespace required for namespaced kinds, forbidden for cluster-scoped', () => {
  assert.deepEqual(messages(validateObjectMeta({ name: 'a' }, true, nameIsDNSSubdomain)), ['metadata.namespace: Required value']);
  assert.deepEqual(messages(validateObjectMeta({ name: 'a', namespace: 'x' }, false, nameIsDNSSubdomain)), ['metadata.namespace: Forbidden: not allowed on this type']);
  assert.equal(validateObjectMeta({ name: 'a', namespace: 'Bad' }, true, nameIsDNSSubdomain)[0]!.field, 'metadata.namespace');
});

test('the name validator decides what a valid name is', () => {
  assert.deepEqual(validateObjectMeta({ name: 'a.b' }, false, nameIsDNSSubdomain), []);
  assert.deepEqual(messages(validateObjectMeta({ name: 'a.b' }, false, nameIsDNSLabel)), ['metadata.name: Invalid value: "a.b": must not contain dots']);
});

test('labels and annotations are validated', () => {
  const errs = validateObjectMeta({ name: 'a', labels: { 'bad key!': 'v', ok: 'bad value!' } }, false, nameIsDNSSubdomain);
  assert.deepEqual(errs.map((e) => e.field), ['metadata.labels', 'metadata.labels']);
  assert.match(errs[1]!.message, /^Invalid value: "bad value!": a valid label must be an empty string/);
  const big = { a: 'x'.repeat(256 * 1024) };
  assert.deepEqual(messages(validateAnnotations('metadata.annotations', big)), ['metadata.annotations: Too long: may not be more than 262144 bytes']);
});

test('finalizers must be qualified or standard', () => {
  assert.deepEqual(validateObjectMeta({ name: 'a', finalizers: ['kubernetes', 'example.com/x'] }, false, nameIsDNSSubdomain), []);
  assert.deepEqual(messages(validateObjectMeta({ name: 'a', finalizers: ['custom'] }, false, nameIsDNSSubdomain)), [
    'metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});

test('identity fields are immutable; no new finalizers while deleting', () => {
  assert.deepEqual(messages(validateObjectMetaUpdate({ name: 'b', uid: '1' }, { name: 'a', uid: '1' })), ['metadata.name: Invalid value: "b": field is immutable']);
  const deleting = { name: 'a', deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['x/a'] };
  assert.deepEqual(messages(validateObjectMetaUpdate({ name: 'a', finalizers: ['x/a', 'x/b'] }, deleting)), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"x/b"}',
  ]);
});

test('label selectors: operators, values, matching and string form', () => {
  assert.deepEqual(validateLabelSelector('spec.selector', { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] }), []);
  assert.deepEqual(messages(validateLabelSelector('spec.selector', { matchExpressions: [{ key: 'a', operator: 'In' }] })), [
    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ]);
  assert.deepEqual(messages(validateLabelSelector('s', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })), [
    "s.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  ]);
  assert.deepEqual(messages(validateLabelSelector('s', { matchExpressions: [{ key: 'a', operator: 'Has' }] })), ['s.matchExpressions[0].operator: Invalid value: "Has": not a valid selector operator']);
  const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['b', 'a'] }, { key: 'legacy', operator: 'DoesNotExist' }] };
  assert.equal(selectorMatches(sel, { app: 'web', tier: 'c' }), true);
  assert.equal(selectorMatches(sel, { app: 'web', tier: 'a' }), false);
  assert.equal(selectorMatches(sel, { app: 'web', legacy: 'y' }), false);
  assert.equal(formatLabelSelector(sel), 'app=web,!legacy,tier notin (a,b)');
});
