import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupResource } from '../../../api/scheme.ts';
import type { KObject } from '../../../api/object.ts';
import { isExempt, namespaceSelected, objectSelected, orderedWebhooks, ruleMatches } from './match.ts';
import type { AdmissionAttributes, Rule, Webhook } from './types.ts';

const PODS = lookupResource('', 'v1', 'pods')!;
const NAMESPACES = lookupResource('', 'v1', 'namespaces')!;
const NODES = lookupResource('', 'v1', 'nodes')!;
const DEPLOYMENTS = lookupResource('apps', 'v1', 'deployments')!;

const rule = (r: Partial<Rule>): Rule => ({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], ...r });
const pods = (extra: Partial<AdmissionAttributes> = {}) => ({ operation: 'CREATE' as const, resource: PODS, ...extra });

test('operations, groups and versions match exactly or by *', () => {
  assert.equal(ruleMatches(rule({}), pods()), true);
  assert.equal(ruleMatches(rule({}), pods({ operation: 'UPDATE' })), false);
  assert.equal(ruleMatches(rule({ operations: ['*'] }), pods({ operation: 'DELETE' })), true);
  assert.equal(ruleMatches(rule({ apiGroups: ['apps'] }), pods()), false);
  assert.equal(ruleMatches(rule({ apiGroups: ['*'], resources: ['*'] }), { operation: 'CREATE', resource: DEPLOYMENTS }), true);
  assert.equal(ruleMatches(rule({ apiVersions: ['v1beta1'] }), pods()), false);
  assert.equal(ruleMatches(rule({ apiVersions: ['*'] }), pods()), true);
});

test('resources: "*" is main resources only, "*/*" and "x/*" include subresources, "x/y" one subresource', () => {
  const status = pods({ operation: 'UPDATE', subresource: 'status' });
  const r = (resources: string[]) => rule({ operations: ['UPDATE'], resources });
  assert.equal(ruleMatches(r(['pods']), status), false);
  assert.equal(ruleMatches(r(['*']), status), false);
  assert.equal(ruleMatches(r(['pods/status']), status), true);
  assert.equal(ruleMatches(r(['pods/status']), pods({ operation: 'UPDATE' })), false);
  assert.equal(ruleMatches(r(['pods/*']), status), true);
  assert.equal(ruleMatches(r(['pods/*']), pods({ operation: 'UPDATE' })), true);
  assert.equal(ruleMatches(r(['*/status']), status), true);
  assert.equal(ruleMatches(r(['*/*']), status), true);
  assert.equal(ruleMatches(r(['services']), status), false);
});

test('scope: Cluster matches cluster-scoped resources, Namespaced namespaced ones', () => {
  const any = rule({ apiGroups: ['*'], resources: ['*'] });
  assert.equal(ruleMatches({ ...any, scope: 'Namespaced' }, pods()), true);
  assert.equal(ruleMatches({ ...any, scope: 'Cluster' }, pods()), false);
  assert.equal(ruleMatches({ ...any, scope: 'Cluster' }, { operation: 'CREATE', resource: NODES }), true);
  assert.equal(ruleMatches({ ...any, scope: 'Cluster' }, { operation: 'CREATE', resource: NAMESPACES }), true);
  assert.equal(ruleMatches({ ...any, scope: '*' }, { operation: 'CREATE', resource: NODES }), true);
});

test('webhook configurations themselves are never sent to webhooks', () => {
  assert.equal(isExempt({ resource: lookupResource('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations')! }), true);
  assert.equal(isExempt({ resource: PODS }), false);
});

const obj = (labels?: Record<string, string>): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels } });
const hook = (h: Partial<Webhook>): Webhook => ({ name: 'a.b.c', clientConfig: { url: 'https://x' }, ...h });

test('objectSelector matches the new or the old object; an empty one matches all', () => {
  const h = hook({ objectSelector: { matchLabels: { team: 'a' } } });
  assert.equal(objectSelected(hook({ objectSelector: {} }), { object: obj() }), true);
  assert.equal(objectSelected(h, { object: obj({ team: 'a' }) }), true);
  assert.equal(objectSelected(h, { object: obj({ team: 'b' }) }), false);
  assert.equal(objectSelected(h, { object: obj({ team: 'b' }), oldObject: obj({ team: 'a' }) }), true);
  assert.equal(objectSelected(h, { oldObject: obj({ team: 'a' }) }), true);
  const notIn = hook({ objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] } });
  assert.equal(objectSelected(notIn, { object: obj({ skip: '1' }) }), false);
});

test('namespaceSelector: namespace labels for namespaced kinds, the object for Namespaces, ignored for other cluster kinds', async () => {
  const h = hook({ namespaceSelector: { matchLabels: { env: 'prod' } } });
  const labels: Record<string, Record<string, string>> = { prod: { env: 'prod' }, dev: { env: 'dev' } };
  let lookups = 0;
  const lookup = async (name: string) => { lookups++; return labels[name]; };
  assert.equal(await namespaceSelected(h, { operation: 'CREATE', resource: PODS, name: 'p', namespace: 'prod' }, lookup), true);
  assert.equal(await namespaceSelected(h, { operation: 'CREATE', resource: PODS, name: 'p', namespace: 'dev' }, lookup), false);
  assert.equal(await namespaceSelected(h, { operation: 'CREATE', resource: PODS, name: 'p', namespace: 'gone' }, lookup), false);
  const ns = (l: Record<string, string>): KObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', labels: l } });
  assert.equal(await namespaceSelected(h, { operation: 'CREATE', resource: NAMESPACES, name: 'n', object: ns({ env: 'prod' }) }, lookup), true);
  assert.equal(await namespaceSelected(h, { operation: 'DELETE', resource: NAMESPACES, name: 'n', oldObject: ns({ env: 'dev' }) }, lookup), false);
  assert.equal(await namespaceSelected(h, { operation: 'CREATE', resource: NODES, name: 'n' }, lookup), true);
  const before = lookups;
  assert.equal(await namespaceSelected(hook({ namespaceSelector: {} }), { operation: 'CREATE', resource: PODS, name: 'p', namespace: 'dev' }, lookup), true);
  assert.equal(lookups, before, 'an empty selector looks nothing up');
});

test('webhooks are ordered by configuration name, then position', () => {
  const cfg = (name: string, hooks: string[]): KObject => ({ apiVersion: 'x', kind: 'x', metadata: { name }, webhooks: hooks.map((n) => hook({ name: n })) });
  const order = orderedWebhooks([cfg('b', ['b1.x.y', 'b2.x.y']), cfg('a', ['a2.x.y', 'a1.x.y'])]).map((c) => c.hook.name);
  assert.deepEqual(order, ['a2.x.y', 'a1.x.y', 'b1.x.y', 'b2.x.y']);
});
