import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ruleAllows, uncoveredRules, formatRule, nonResourceURLMatches, resourceMatches } from './rules.ts';
import { requestAttributes, forbiddenMessage } from './attributes.ts';
import type { Attributes, PolicyRule } from './types.ts';

const alice = { name: 'alice', groups: ['dev', 'system:authenticated'] };
const attrs = (method: string, path: string, query = ''): Attributes => requestAttributes(alice, method, path, new URLSearchParams(query));

test('request attributes as kube-apiserver computes them', () => {
  const list = attrs('GET', '/api/v1/namespaces/ns1/pods');
  assert.deepEqual([list.verb, list.apiGroup, list.resource, list.namespace, list.name, list.subresource], ['list', '', 'pods', 'ns1', '', '']);
  assert.equal(attrs('GET', '/api/v1/namespaces/ns1/pods', 'watch=true').verb, 'watch');
  assert.equal(attrs('GET', '/api/v1/watch/namespaces/ns1/pods').verb, 'watch');
  assert.equal(attrs('GET', '/api/v1/pods', 'watch=1&fieldSelector=metadata.name%3Dp1').name, 'p1');
  const log = attrs('GET', '/api/v1/namespaces/ns1/pods/p1/log');
  assert.deepEqual([log.verb, log.resource, log.name, log.subresource], ['get', 'pods', 'p1', 'log']);
  const scale = attrs('PUT', '/apis/apps/v1/namespaces/ns1/deployments/d/scale');
  assert.deepEqual([scale.verb, scale.apiGroup, scale.resource, scale.subresource], ['update', 'apps', 'deployments', 'scale']);
  assert.equal(attrs('DELETE', '/api/v1/namespaces/ns1/pods').verb, 'deletecollection');
  assert.equal(attrs('DELETE', '/api/v1/namespaces/ns1/pods/x').verb, 'delete');
  assert.equal(attrs('PATCH', '/api/v1/nodes/n1/status').subresource, 'status');
  assert.equal(attrs('POST', '/api/v1/namespaces/ns1/pods/p/exec').verb, 'create');
  // A namespace is its own namespace; its status is a subresource, not a resource.
  const ns = attrs('GET', '/api/v1/namespaces/ns1');
  assert.deepEqual([ns.resource, ns.name, ns.namespace], ['namespaces', 'ns1', 'ns1']);
  assert.equal(attrs('PUT', '/api/v1/namespaces/ns1/finalize').subresource, 'finalize');
  const other = attrs('GET', '/healthz');
  assert.deepEqual([other.resourceRequest, other.verb, other.path], [false, 'get', '/healthz']);
  assert.equal(attrs('POST', '/apis').verb, 'post');
  assert.equal(attrs('GET', '/apis/apps').resourceRequest, false);
});

test('forbidden messages in Kubernetes wording', () => {
  assert.equal(forbiddenMessage(attrs('GET', '/api/v1/namespaces/y/pods')), 'User "alice" cannot list resource "pods" in API group "" in the namespace "y"');
  assert.equal(forbiddenMessage(attrs('GET', '/api/v1/nodes')), 'User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
  assert.equal(forbiddenMessage(attrs('GET', '/api/v1/namespaces/y/pods/p/log')), 'User "alice" cannot get resource "pods/log" in API group "" in the namespace "y"');
  assert.equal(forbiddenMessage(attrs('GET', '/foo')), 'User "alice" cannot get path "/foo"');
  assert.equal(forbiddenMessage(attrs('POST', '/apis/apps/v1/namespaces/y/deployments')), 'User "alice" cannot create resource "deployments" in API group "apps" in the namespace "y"');
});

test('rule matching: groups, resources, subresources, names, verbs', () => {
  const r = (rule: PolicyRule, method: string, path: string, q = '') => ruleAllows(rule, attrs(method, path, q));
  const pods: PolicyRule = { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] };
  assert.equal(r(pods, 'GET', '/api/v1/namespaces/a/pods'), true);
  assert.equal(r(pods, 'GET', '/api/v1/namespaces/a/pods/p'), true);
  assert.equal(r(pods, 'DELETE', '/api/v1/namespaces/a/pods/p'), false);
  assert.equal(r(pods, 'GET', '/api/v1/namespaces/a/pods/p/log'), false, 'pods does not grant pods/log');
  assert.equal(r(pods, 'GET', '/apis/apps/v1/namespaces/a/deployments'), false);
  assert.equal(r({ ...pods, apiGroups: ['apps'] }, 'GET', '/api/v1/namespaces/a/pods'), false, 'wrong group');
  assert.equal(r({ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }, 'GET', '/api/v1/namespaces/a/pods/p/log'), true);
  const anyScale: PolicyRule = { apiGroups: ['*'], resources: ['*/scale'], verbs: ['update'] };
  assert.equal(r(anyScale, 'PUT', '/apis/apps/v1/namespaces/a/deployments/d/scale'), true);
  assert.equal(r(anyScale, 'PUT', '/apis/apps/v1/namespaces/a/deployments/d'), false);
  assert.equal(r(anyScale, 'PUT', '/apis/apps/v1/namespaces/a/deployments/d/status'), false);
  const all: PolicyRule = { apiGroups: ['*'], resources: ['*'], verbs: ['*'] };
  assert.equal(r(all, 'DELETE', '/apis/apps/v1/namespaces/a/deployments'), true);
  assert.equal(r(all, 'GET', '/api/v1/namespaces/a/pods/p/log'), true);
  assert.equal(r(all, 'GET', '/healthz'), false, 'resource rules never grant paths');
  const named: PolicyRule = { apiGroups: [''], resources: ['configmaps'], resourceNames: ['cm1'], verbs: ['get', 'list'] };
  assert.equal(r(named, 'GET', '/api/v1/namespaces/a/configmaps/cm1'), true);
  assert.equal(r(named, 'GET', '/api/v1/namespaces/a/configmaps/cm2'), false);
  assert.equal(r(named, 'GET', '/api/v1/namespaces/a/configmaps'), false, 'a list is not a named request');
  assert.equal(r(named, 'GET', '/api/v1/namespaces/a/configmaps', 'fieldSelector=metadata.name=cm1'), true);
  assert.equal(resourceMatches({ verbs: ['get'], resources: ['pods'] }, 'pods', ''), true);
});

test('non-resource URLs: exact, "*", and trailing-"*" prefixes', () => {
  const rule: PolicyRule = { nonResourceURLs: ['/healthz', '/apis/*'], verbs: ['get'] };
  assert.equal(nonResourceURLMatches(rule, '/healthz'), true);
  assert.equal(nonResourceURLMatches(rule, '/healthz/ping'), false);
  assert.equal(nonResourceURLMatches(rule, '/apis/apps'), true);
  assert.equal(nonResourceURLMatches(rule, '/apis'), false);
  assert.equal(ruleAllows(rule, attrs('GET', '/healthz')), true);
  assert.equal(ruleAllows(rule, attrs('POST', '/healthz')), false);
  assert.equal(nonResourceURLMatches({ nonResourceURLs: ['*'], verbs: ['*'] }, '/anything'), true);
});

test('covers: what escalation prevention compares', () => {
  const held: PolicyRule[] = [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    { apiGroups: ['apps'], resources: ['*'], verbs: ['*'] },
    { apiGroups: [''], resources: ['configmaps'], resourceNames: ['cm1'], verbs: ['get'] },
    { nonResourceURLs: ['/metrics/*'], verbs: ['get'] },
  ];
  assert.deepEqual(uncoveredRules(held, [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]), []);
  assert.deepEqual(uncoveredRules(held, [{ apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['delete', 'update'] }]), []);
  assert.deepEqual(uncoveredRules(held, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }]),
    [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }]);
  assert.equal(uncoveredRules(held, [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }]).length, 1, '"*" is only covered by "*"');
  assert.equal(uncoveredRules(held, [{ apiGroups: [''], resources: ['*'], verbs: ['get'] }]).length, 1);
  assert.deepEqual(uncoveredRules(held, [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cm1'], verbs: ['get'] }]), []);
  assert.equal(uncoveredRules(held, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]).length, 1, 'all names exceed one name');
  assert.deepEqual(uncoveredRules(held, [{ nonResourceURLs: ['/metrics/x'], verbs: ['get'] }]), []);
  assert.equal(uncoveredRules(held, [{ nonResourceURLs: ['/debug'], verbs: ['get'] }]).length, 1);
  assert.equal(formatRule({ apiGroups: [''], resources: ['pods'], verbs: ['create'] }), '{APIGroups:[""], Resources:["pods"], Verbs:["create"]}');
});
