import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isConfigMapKey, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue,
  isValidPortName, nameIsDNSSubdomain,
} from './names.ts';

test('DNS-1123 subdomain: valid names pass, bad ones get the Kubernetes message', () => {
  assert.deepEqual(isDNS1123Subdomain('example.com'), []);
  assert.deepEqual(isDNS1123Subdomain('my-app-1'), []);
  assert.deepEqual(isDNS1123Subdomain('Foo_bar'), [
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  const long = 'a'.repeat(254);
  assert.deepEqual(isDNS1123Subdomain(long), ['must be no more than 253 characters']);
});

test('DNS-1123 label: dots get their own message, multiple examples use Kubernetes spacing', () => {
  assert.deepEqual(isDNS1123Label('web'), []);
  assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
  assert.deepEqual(isDNS1123Label('-x'), [
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.equal(isDNS1123Label('a'.repeat(64))[0], 'must be no more than 63 characters');
});

test('DNS-1035 label must start with a letter', () => {
  assert.deepEqual(isDNS1035Label('svc-1'), []);
  assert.equal(isDNS1035Label('1svc').length, 1);
  assert.match(isDNS1035Label('1svc')[0]!, /^a DNS-1035 label must consist of/);
});

test('qualified names: prefix and name parts are checked separately', () => {
  assert.deepEqual(isQualifiedName('app.kubernetes.io/name'), []);
  assert.deepEqual(isQualifiedName('MyName'), []);
  assert.deepEqual(isQualifiedName('/name'), ['prefix part must be non-empty']);
  assert.equal(isQualifiedName('Bad_Prefix/name')[0]!.startsWith('prefix part a lowercase RFC 1123 subdomain'), true);
  assert.deepEqual(isQualifiedName('example.com/'), [
    'name part must be non-empty',
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]);
  assert.match(isQualifiedName('a/b/c')[0]!, /^a qualified name must consist of/);
});

test('label values may be empty but not end with a dash', () => {
  assert.deepEqual(isValidLabelValue(''), []);
  assert.deepEqual(isValidLabelValue('v1.2_x'), []);
  assert.equal(isValidLabelValue('bad-').length, 1);
});

test('generateName may end with a dash', () => {
  assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
  assert.equal(nameIsDNSSubdomain('web-', false).length, 1);
});

test('config keys and port names', () => {
  assert.deepEqual(isConfigMapKey('app.properties'), []);
  assert.deepEqual(isConfigMapKey('..data'), ["must not start with '..'"]);
  assert.equal(isConfigMapKey('a/b').length, 1);
  assert.deepEqual(isValidPortName('http'), []);
  assert.deepEqual(isValidPortName('80'), ['must contain at least one letter (a-z)']);
  assert.ok(isValidPortName('a--b').includes('must not contain consecutive hyphens'));
});
