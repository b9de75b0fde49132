// In-process requests under a component's identity: authorized by the server's RBAC
// authorizer with the bootstrap controller roles, refused with Kubernetes' 403, the
// refusal logged once; the registry wrapper does the same for direct registry users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupResource } from '../api/scheme.ts';
import { testBed } from '../controllers/testing.ts';
import { createAuthorization, ensureBootstrapPolicy } from '../apiserver/authz/index.ts';
import { controllerManagerUser, controllerUser, schedulerUser } from '../apiserver/authz/bootstrap-controllers.ts';
import { createLogger } from '../util/log.ts';
import { authorizingRegistry, type InProcessIdentity } from './inprocess-auth.ts';
import { InProcessApi } from './inprocess-resource.ts';
import { ClientError } from './types.ts';
import { ApiError } from '../apiserver/errors.ts';

test('a controller identity may do what its role says and nothing else', async (t) => {
  const bed = await testBed();
  const authorization = createAuthorization(bed.registry);
  t.after(async () => { authorization.stop(); await bed.close(); });
  await ensureBootstrapPolicy(bed.client);
  const lines: string[] = [];
  const user = controllerUser('deployment')!;
  assert.equal(user.name, 'system:serviceaccount:kube-system:deployment-controller');
  assert.deepEqual(user.groups, ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']);
  const id: InProcessIdentity = { user, authz: authorization.authz, log: createLogger({ level: 'error', write: (l) => lines.push(l) }) };
  const api = new InProcessApi(bed.registry, 'skiff-deployment', id);

  // Its own work: read deployments, write replica sets (and their webhooks would see this user).
  assert.deepEqual((await api.resource('apps', 'v1', 'replicasets').list('default')).items, []);
  const rs = await api.resource('apps', 'v1', 'replicasets').create({
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  assert.equal(rs.metadata.managedFields?.[0]?.manager, 'skiff-deployment');
  const w = await api.resource('apps', 'v1', 'deployments').watch('default', {}, () => {});
  w.close();

  // Not its work: Secrets, deleting pods, writing other kinds' status.
  const refused = async (p: Promise<unknown>, message: string) => assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ClientError, String(err));
    assert.equal(err.code, 403);
    assert.equal(err.reason, 'Forbidden');
    assert.equal(err.message, message);
    return true;
  });
  await refused(api.resource('', 'v1', 'secrets').get('kube-system', 'x'),
    'secrets "x" is forbidden: User "system:serviceaccount:kube-system:deployment-controller" cannot get resource "secrets" in API group "" in the namespace "kube-system"');
  await refused(api.resource('', 'v1', 'secrets').list('default'),
    'secrets is forbidden: User "system:serviceaccount:kube-system:deployment-controller" cannot list resource "secrets" in API group "" in the namespace "default"');
  await refused(api.resource('', 'v1', 'secrets').watch('default', {}, () => {}),
    'secrets is forbidden: User "system:serviceaccount:kube-system:deployment-controller" cannot watch resource "secrets" in API group "" in the namespace "default"');
  await refused(api.resource('', 'v1', 'pods').delete('default', 'p'),
    'pods "p" is forbidden: User "system:serviceaccount:kube-system:deployment-controller" cannot delete resource "pods" in API group "" in the namespace "default"');
  await refused(api.resource('', 'v1', 'secrets').get('kube-system', 'y'), 'secrets "y" is forbidden: User "system:serviceaccount:kube-system:deployment-controller" cannot get resource "secrets" in API group "" in the namespace "kube-system"');
  // One clear error line per missing permission, not one per request.
  const denials = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
  assert.deepEqual(denials.map((l) => l.resource), ['get /secrets', 'list /secrets', 'watch /secrets', 'delete /pods']);
  assert.match(denials[0].msg, /denied by authorization/);

  // The registry wrapper (scheduler, namespace controller, events): the same checks.
  const PODS = lookupResource('', 'v1', 'pods')!;
  const SECRETS = lookupResource('', 'v1', 'secrets')!;
  const sched = authorizingRegistry(bed.registry, { user: schedulerUser(), authz: authorization.authz });
  await bed.client.resource('', 'v1', 'pods').create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  await sched.guaranteedUpdate(PODS, 'default', 'p', (p) => { (p.spec as { nodeName?: string }).nodeName = 'n1'; return p; }, { subresource: 'binding' });
  await assert.rejects(sched.get(SECRETS, 'default', 's'), (err: unknown) => err instanceof ApiError && err.code === 403
    && err.message === 'secrets "s" is forbidden: User "system:kube-scheduler" cannot get resource "secrets" in API group "" in the namespace "default"');
  // The controller manager itself: the lease and list/watch for the shared informers, no writes elsewhere.
  const manager = new InProcessApi(bed.registry, 'skiff-controller-manager', { user: controllerManagerUser(), authz: authorization.authz });
  await manager.resource('', 'v1', 'secrets').list(undefined);
  await assert.rejects(manager.resource('', 'v1', 'secrets').get('default', 'x'), (err: unknown) => err instanceof ClientError && err.code === 403);
  await assert.rejects(manager.resource('', 'v1', 'pods').delete('default', 'p'), (err: unknown) => err instanceof ClientError && err.code === 403);
});

test('every built-in controller has an identity with a bootstrap role', async (t) => {
  const bed = await testBed();
  const authorization = createAuthorization(bed.registry);
  t.after(async () => { authorization.stop(); await bed.close(); });
  await ensureBootstrapPolicy(bed.client);
  const { builtInControllers } = await import('../controllers/index.ts');
  const { silentLogger } = await import('../util/log.ts');
  for (const c of builtInControllers(bed.registry, silentLogger, { caCertPem: 'x' })) {
    const user = controllerUser(c.name);
    assert.ok(user, `${c.name} has an identity`);
    // Every identity can at least do something it needs (events, or its own kind).
    const rules = await authorization.rbac.rulesFor(user, 'default', true);
    assert.ok(rules.some((r) => !r.nonResourceURLs && r.verbs.some((v) => v !== 'get' && v !== 'list' && v !== 'watch')), `${c.name} (${user.name}) can write something`);
    assert.ok(!rules.some((r) => r.resources?.includes('secrets') && r.verbs.includes('get') && c.name !== 'tokencleaner'), `${c.name} cannot read secrets`);
  }
});
