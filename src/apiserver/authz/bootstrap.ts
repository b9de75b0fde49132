// The default policy every cluster starts with (kube-apiserver's bootstrap-roles hook):
// cluster-admin, the aggregated admin/edit/view roles and their aggregate-to-* parts,
// discovery, public info, basic self-review rights, node bootstrap (bootstrap-nodes.ts), and
// system:skiff:node for the node simulator (the cluster join token's user). Created at server start and reconciled on each start
// unless an object's autoupdate annotation is "false".
import type { KObject } from '../../api/object.ts';
import type { ApiClient } from '../../client/types.ts';
import type { PolicyRule } from './types.ts';
import { controllerClusterRoleBindings, controllerClusterRoles } from './bootstrap-controllers.ts';
import { joinTokenBinding, nodeCertificateClusterRoleBindings, nodeCertificateClusterRoles } from './bootstrap-nodes.ts';

const RBAC = 'rbac.authorization.k8s.io';
const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });
const urls = (nonResourceURLs: string[], verbs = ['get']): PolicyRule => ({ nonResourceURLs, verbs });

/** The group agents authenticate in with the join token (see src/server/run.ts). */
export const NODE_BOOTSTRAP_GROUP = 'system:bootstrappers';

function clusterRole(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateFrom?: string } = {}): KObject {
  const role: KObject = {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS, ...extra.labels }, annotations: { [AUTOUPDATE]: 'true' } },
    rules,
  };
  if (extra.aggregateFrom) {
    role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [extra.aggregateFrom]: 'true' } }] };
  }
  return role;
}

function clusterBinding(name: string, role: string, groups: string[]): KObject {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE]: 'true' } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: groups.map((g) => ({ apiGroup: RBAC, kind: 'Group', name: g })),
  };
}

const AGG = 'rbac.authorization.k8s.io/aggregate-to-';

/** What an agent (the real one and the simulator) calls, read from src/agent/. */
const NODE_RULES: PolicyRule[] = [
  // node/heartbeat.ts and sim/simulator.ts: register, label, report status; sim/node.ts: leases.
  rule([''], ['nodes'], [...READ, 'create', 'update', 'patch']),
  rule([''], ['nodes/status'], ['get', 'update', 'patch']),
  rule(['coordination.k8s.io'], ['leases'], [...READ, 'create', 'update', 'patch']),
  // pods/manager.ts: run the pods bound here, report their status, delete them once terminated.
  rule([''], ['pods'], [...READ, 'delete']),
  rule([''], ['pods/status'], ['get', 'update', 'patch']),
  rule([''], ['events'], ['create', 'update', 'patch']),
  rule(['events.k8s.io'], ['events'], ['create', 'update', 'patch']),
  // pods/deps.ts, network/cluster-config.ts, dns/, proxy/, ingress/, netpol/: what pods and the node's networking read.
  rule([''], ['configmaps', 'secrets', 'services', 'namespaces', 'serviceaccounts'], READ),
  // pods/sa-tokens.ts: projected service-account tokens for its pods.
  rule([''], ['serviceaccounts/token'], ['create']),
  rule(['discovery.k8s.io'], ['endpointslices'], READ),
  rule(['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingressclasses'], READ),
];

const VIEW_RULES: PolicyRule[] = [
  rule([''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], READ),
  rule([''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], READ),
  rule([''], ['namespaces'], READ),
  rule(['discovery.k8s.io'], ['endpointslices'], READ),
  rule(['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], READ),
  rule(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
  rule(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
  rule(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
  rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
];

const EDIT_RULES: PolicyRule[] = [
  rule([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], READ),
  rule([''], ['serviceaccounts'], ['impersonate']),
  rule([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], WRITE),
  rule([''], ['pods/eviction'], ['create']),
  rule([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], WRITE),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule(['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], WRITE),
  rule(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
  rule(['batch'], ['cronjobs', 'jobs'], WRITE),
  rule(['policy'], ['poddisruptionbudgets'], WRITE),
  rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
  rule(['discovery.k8s.io'], ['endpointslices'], WRITE),
];

const ADMIN_RULES: PolicyRule[] = [
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  rule([RBAC], ['rolebindings', 'roles'], [...WRITE, ...READ]),
];

export function bootstrapClusterRoles(): KObject[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], { aggregateFrom: `${AGG}admin` }),
    clusterRole('edit', [], { aggregateFrom: `${AGG}edit`, labels: { [`${AGG}admin`]: 'true' } }),
    clusterRole('view', [], { aggregateFrom: `${AGG}view`, labels: { [`${AGG}edit`]: 'true' } }),
    clusterRole('system:aggregate-to-admin', ADMIN_RULES, { labels: { [`${AGG}admin`]: 'true' } }),
    clusterRole('system:aggregate-to-edit', EDIT_RULES, { labels: { [`${AGG}edit`]: 'true' } }),
    clusterRole('system:aggregate-to-view', VIEW_RULES, { labels: { [`${AGG}view`]: 'true' } }),
    // As metrics-server installs it: `kubectl top` for whoever may view.
    clusterRole('system:aggregated-metrics-reader', [rule(['metrics.k8s.io'], ['pods', 'nodes'], READ)], {
      labels: { [`${AGG}view`]: 'true', [`${AGG}edit`]: 'true', [`${AGG}admin`]: 'true' },
    }),
    clusterRole('system:basic-user', [
      rule(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
      rule(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
    ]),
    clusterRole('system:discovery', [urls(['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    clusterRole('system:public-info-viewer', [urls(['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:skiff:node', NODE_RULES),
    ...nodeCertificateClusterRoles(),
    ...controllerClusterRoles(),
  ];
}

export function bootstrapClusterRoleBindings(): KObject[] {
  return [
    clusterBinding('cluster-admin', 'cluster-admin', ['system:masters']),
    clusterBinding('system:basic-user', 'system:basic-user', ['system:authenticated']),
    // Anonymous discovery, as the issue asks (Kubernetes before 1.14; public-info-viewer alone since).
    clusterBinding('system:discovery', 'system:discovery', ['system:authenticated', 'system:unauthenticated']),
    clusterBinding('system:public-info-viewer', 'system:public-info-viewer', ['system:authenticated', 'system:unauthenticated']),
    // Only the cluster join token's user (for `skiff sim`); bootstrap tokens and nodes get no more than bootstrap-nodes.ts grants.
    joinTokenBinding('system:skiff:node', 'system:skiff:node'),
    ...nodeCertificateClusterRoleBindings(),
    ...controllerClusterRoleBindings(),
  ];
}

const json = (v: unknown): string => JSON.stringify(v ?? null);

/** Creates missing defaults and brings autoupdate ones back to their bootstrap content. */
export async function ensureBootstrapPolicy(client: ApiClient): Promise<void> {
  const roles = client.resource(RBAC, 'v1', 'clusterroles');
  const bindings = client.resource(RBAC, 'v1', 'clusterrolebindings');
  for (const want of bootstrapClusterRoles()) {
    const have = await roles.tryGet(undefined, want.metadata.name!);
    if (!have) { await createIgnoringConflict(() => roles.create(want)); continue; }
    if (have.metadata.annotations?.[AUTOUPDATE] === 'false') continue;
    const labels = { ...have.metadata.labels, ...want.metadata.labels };
    // Aggregated roles keep the rules the aggregation controller gave them.
    const rules = want.aggregationRule ? have.rules : want.rules;
    if (json(labels) === json(have.metadata.labels) && json(rules) === json(have.rules) && json(want.aggregationRule) === json(have.aggregationRule)) continue;
    await roles.update({ ...have, metadata: { ...have.metadata, labels }, rules, aggregationRule: want.aggregationRule });
  }
  for (const want of bootstrapClusterRoleBindings()) {
    const have = await bindings.tryGet(undefined, want.metadata.name!);
    if (!have) { await createIgnoringConflict(() => bindings.create(want)); continue; }
    if (have.metadata.annotations?.[AUTOUPDATE] === 'false') continue;
    const subjects = Array.isArray(have.subjects) ? [...have.subjects as KObject[]] : [];
    const missing = (want.subjects as Record<string, string>[]).filter((w) => !subjects.some((s) => (s as unknown as Record<string, string>).kind === w.kind && (s as unknown as Record<string, string>).name === w.name));
    if (!missing.length) continue;
    await bindings.update({ ...have, subjects: [...subjects, ...missing] });
  }
}

async function createIgnoringConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}
