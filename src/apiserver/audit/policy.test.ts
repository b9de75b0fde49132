import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditPolicy, type RequestAttributes } from './policy.ts';

const policy = AuditPolicy.parse(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: ["system:kube-proxy"]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: Metadata
    resources: [{ group: "", resources: ["secrets", "configmaps"] }]
  - level: Request
    verbs: ["create", "update"]
    namespaces: ["prod"]
  - level: RequestResponse
    resources: [{ group: "", resources: ["pods/*"] }, { group: apps, resources: ["*/scale"] }]
  - level: Metadata
    userGroups: ["system:nodes"]
    omitStages: [ResponseStarted]
`);

const res = (resource: string, extra: Partial<NonNullable<RequestAttributes['resource']>> = {}, verb = 'get', user = 'alice', groups: string[] = []): RequestAttributes =>
  ({ user, groups, verb, path: '/x', resource: { group: '', resource, ...extra } });

test('the first matching rule gives the level; nothing matching is None', () => {
  assert.equal(policy.evaluate(res('pods', {}, 'get', 'system:kube-proxy')).level, 'None');
  assert.equal(policy.evaluate({ user: 'a', groups: [], verb: 'get', path: '/healthz/ready' }).level, 'None');
  assert.equal(policy.evaluate({ user: 'a', groups: [], verb: 'get', path: '/version' }).level, 'None');
  assert.equal(policy.evaluate({ user: 'a', groups: [], verb: 'get', path: '/versions' }).level, 'None', 'no rule for it');
  assert.equal(policy.evaluate(res('secrets', { namespace: 'prod' }, 'create')).level, 'Metadata', 'earlier rule wins');
  assert.equal(policy.evaluate(res('services', { namespace: 'prod' }, 'create')).level, 'Request');
  assert.equal(policy.evaluate(res('services', { namespace: 'dev' }, 'create')).level, 'None');
});

test('resource forms: "pods/*" covers pods and its subresources, "*/scale" any scale, groups must match', () => {
  assert.equal(policy.evaluate(res('pods')).level, 'RequestResponse');
  assert.equal(policy.evaluate(res('pods', { subresource: 'log' })).level, 'RequestResponse');
  assert.equal(policy.evaluate({ ...res('deployments', { subresource: 'scale' }), resource: { group: 'apps', resource: 'deployments', subresource: 'scale' } }).level, 'RequestResponse');
  assert.equal(policy.evaluate({ ...res('deployments'), resource: { group: 'apps', resource: 'deployments' } }).level, 'None');
  assert.equal(policy.evaluate({ ...res('secrets'), resource: { group: 'other', resource: 'secrets' } }).level, 'None');
});

test('omitStages: the policy\'s and the rule\'s together', () => {
  assert.deepEqual(policy.evaluate(res('nodes', {}, 'get', 'system:node:a', ['system:nodes'])), { level: 'Metadata', omitStages: ['RequestReceived', 'ResponseStarted'] });
});

test('bad policies are refused with the reason', () => {
  assert.throws(() => AuditPolicy.parse('kind: Config'), /expected apiVersion audit.k8s.io\/v1, kind Policy/);
  assert.throws(() => AuditPolicy.parse('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Loud}]'), /rules\[0\].level must be one of/);
  assert.throws(() => AuditPolicy.parse('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{}], nonResourceURLs: ["/x"]}]'), /cannot be mixed/);
  assert.throws(() => AuditPolicy.parse('apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Sometimes]'), /unknown stage/);
});
