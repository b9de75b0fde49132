import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../object.ts';
import { strategyFor } from './index.ts';

const mutating = strategyFor('admissionregistration.k8s.io', 'MutatingWebhookConfiguration');
const validating = strategyFor('admissionregistration.k8s.io', 'ValidatingWebhookConfiguration');

const config = (webhooks: object[]): KObject => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'c' }, webhooks } as KObject);
const good = (extra: object = {}) => ({
  name: 'a.example.com', clientConfig: { service: { namespace: 'ns', name: 'svc' } }, sideEffects: 'None', admissionReviewVersions: ['v1'],
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/status'] }], ...extra,
});
const fields = (errs: { field: string }[]) => errs.map((e) => e.field);

test('defaults: Fail, Equivalent, 10 s, empty selectors, scope *, port 443, Never for mutating only', () => {
  const m = config([good()]);
  mutating.defaults!(m);
  const h = (m.webhooks as any[])[0];
  assert.equal(h.failurePolicy, 'Fail');
  assert.equal(h.matchPolicy, 'Equivalent');
  assert.equal(h.timeoutSeconds, 10);
  assert.deepEqual(h.namespaceSelector, {});
  assert.deepEqual(h.objectSelector, {});
  assert.equal(h.reinvocationPolicy, 'Never');
  assert.equal(h.rules[0].scope, '*');
  assert.equal(h.clientConfig.service.port, 443);
  const once = JSON.stringify(m);
  mutating.defaults!(m);
  assert.equal(JSON.stringify(m), once, 'idempotent');
  const v = config([good()]);
  validating.defaults!(v);
  assert.equal((v.webhooks as any[])[0].reinvocationPolicy, undefined);
  assert.deepEqual(mutating.validate!(m), []);
});

test('validation: rules, client config, selectors, reinvocation', () => {
  const errs = mutating.validate!(config([
    good({ rules: [{ operations: ['*', 'CREATE'], apiGroups: [], apiVersions: ['v1'], resources: ['*', 'pods', 'a/b/c'], scope: 'Everywhere' }] }),
    good({ name: 'b.example.com', clientConfig: { url: 'https://u:p@host/x?y=1' }, reinvocationPolicy: 'Sometimes' }),
    good({ name: 'c.example.com', clientConfig: { service: { namespace: 'ns', name: 'svc', path: 'nope', port: 70000 } }, objectSelector: { matchExpressions: [{ key: 'k', operator: 'Near' }] } }),
  ]));
  assert.deepEqual(fields(errs), [
    'webhooks[0].rules[0].operations',
    'webhooks[0].rules[0].apiGroups',
    'webhooks[0].rules[0].resources[2]',
    'webhooks[0].rules[0].resources',
    'webhooks[0].rules[0].scope',
    'webhooks[1].clientConfig.url',
    'webhooks[1].clientConfig.url',
    'webhooks[1].reinvocationPolicy',
    'webhooks[2].objectSelector.matchExpressions[0].operator',
    'webhooks[2].clientConfig.service.path',
    'webhooks[2].clientConfig.service.port',
  ]);
  assert.match(errs[1].message, /Required value/);
  assert.match(errs[5].message, /user information is not permitted/);
  assert.match(errs[6].message, /query parameters are not permitted/);
  const cel = validating.validate!(config([good({ matchConditions: [{ name: 'x', expression: 'true' }] })]));
  assert.deepEqual(fields(cel), ['webhooks[0].matchConditions']);
  assert.match(cel[0].message, /not supported/);
  // reinvocationPolicy is not a field of validating webhooks.
  assert.deepEqual(validating.validate!(config([good({ reinvocationPolicy: 'Sometimes' })])), []);
});
