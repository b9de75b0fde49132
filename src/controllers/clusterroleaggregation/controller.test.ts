// The aggregation controller on a real registry: the bootstrap admin/edit/view roles fill
// from their labelled parts and follow new, changed and deleted ClusterRoles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testBed } from '../testing.ts';
import { ensureBootstrapPolicy } from '../../apiserver/authz/index.ts';
import { ClusterRoleAggregationController, aggregateRules } from './controller.ts';

const RBAC = 'rbac.authorization.k8s.io';

test('aggregateRules: matching roles by name, each rule once, never itself', () => {
  const role = (name: string, labels: Record<string, string>, rules: object[], sel?: object) =>
    ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name, labels }, rules, ...(sel ? { aggregationRule: { clusterRoleSelectors: [sel] } } : {}) });
  const a = role('agg', { x: 'true' }, [{ verbs: ['*'] }], { matchLabels: { x: 'true' } });
  const r1 = role('b', { x: 'true' }, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  const r2 = role('a', { x: 'true' }, [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  const other = role('c', { x: 'false' }, [{ verbs: ['delete'] }]);
  assert.deepEqual(aggregateRules(a as never, [a, r1, r2, other] as never), [
    { verbs: ['list'], apiGroups: [''], resources: ['pods'] },
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
  ]);
});

test('aggregation: admin/edit/view fill from labelled ClusterRoles, and follow changes', async (t) => {
  const bed = await testBed();
  t.after(() => bed.close());
  await ensureBootstrapPolicy(bed.client);
  await bed.run(new ClusterRoleAggregationController());
  const roles = bed.client.resource(RBAC, 'v1', 'clusterroles');
  const has = (role: string, resource: string) => async () => JSON.stringify((await roles.get(undefined, role)).rules ?? []).includes(`"${resource}"`);
  await bed.until(has('view', 'deployments'), 5000, 'view aggregated');
  await bed.until(has('admin', 'rolebindings'), 5000, 'admin aggregated');
  await bed.until(has('admin', 'pods/exec'), 5000, 'admin includes edit');
  await bed.until(has('admin', 'deployments'), 5000, 'admin includes view through edit');
  assert.equal(await has('view', 'secrets')(), false, 'view does not read secrets');
  await roles.create({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] }] });
  await bed.until(has('view', 'widgets'), 5000, 'view picks up widgets');
  await bed.until(has('edit', 'widgets'), 5000, 'edit picks up widgets through view');
  await roles.delete(undefined, 'widgets-view');
  await bed.until(async () => !(await has('view', 'widgets')()), 5000, 'view drops widgets');
  // Reconciling again keeps what the controller aggregated.
  await ensureBootstrapPolicy(bed.client);
  assert.equal(await has('view', 'deployments')(), true);
});
