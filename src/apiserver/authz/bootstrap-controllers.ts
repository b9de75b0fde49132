// The identities built-in components run under and what each may do, as kube-controller-
// manager runs with --use-service-account-credentials: every controller is the service
// account system:serviceaccount:kube-system:<name>, bound by the ClusterRoleBinding
// system:controller:<name> to the ClusterRole of the same name; the scheduler is the user
// system:kube-scheduler, the controller manager itself (leader lease, shared informers)
// system:kube-controller-manager. The rules come from what each controller calls
// (src/controllers/*/controller.ts, src/scheduler/controller.ts) and from Kubernetes'
// bootstrap controller roles. Made with the rest of the default policy (bootstrap.ts).
import type { KObject } from '../../api/object.ts';
import type { ApiClient } from '../../client/types.ts';
import type { UserInfo } from '../authn/types.ts';
import { AUTHENTICATED_GROUP } from '../authn/types.ts';
import type { PolicyRule } from './types.ts';

const RBAC = 'rbac.authorization.k8s.io';
const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const PREFIX = 'system:controller:';
export const CONTROLLER_NAMESPACE = 'kube-system';
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
export const SCHEDULER_USER = 'system:kube-scheduler';

const READ = ['get', 'list', 'watch'];
const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule =>
  ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });
const events = (): PolicyRule[] => [
  rule([''], ['events'], ['create', 'update', 'patch']),
  rule(['events.k8s.io'], ['events'], ['create', 'update', 'patch']),
];

/**
 * Each controller's service account and rules. Keys are the service-account names
 * (Kubernetes' where one exists); several Skiff controllers may share one (node IPAM and
 * node lifecycle are both Kubernetes' node-controller).
 */
const CONTROLLER_RULES: Record<string, PolicyRule[]> = {
  // namespace/controller.ts: list and delete everything in a terminating namespace, then finalize it.
  'namespace-controller': [
    rule([''], ['namespaces'], ['get', 'list', 'watch', 'delete']),
    rule([''], ['namespaces/finalize', 'namespaces/status'], ['update']),
    rule(['*'], ['*'], ['get', 'list', 'delete', 'deletecollection']),
  ],
  // garbagecollector/controller.ts: reads owners, removes dangling ownerReferences, deletes dependents.
  'generic-garbage-collector': [rule(['*'], ['*'], ['get', 'list', 'watch', 'patch', 'update', 'delete'])],
  'service-account-controller': [rule([''], ['serviceaccounts'], ['create']), ...events()],
  'root-ca-cert-publisher': [rule([''], ['configmaps'], ['create', 'update']), ...events()],
  // nodeipam (podCIDR) and nodelifecycle (conditions, taints, evictions).
  'node-controller': [
    rule([''], ['nodes'], ['get', 'list', 'update', 'delete', 'patch']),
    rule([''], ['nodes/status'], ['patch', 'update']),
    rule([''], ['pods/status'], ['patch', 'update']),
    rule([''], ['pods'], ['list', 'delete']),
    ...events(),
  ],
  'pod-garbage-collector': [
    rule([''], ['pods'], ['list', 'watch', 'delete']),
    rule([''], ['pods/status'], ['patch', 'update']),
    rule([''], ['nodes'], ['get', 'list']),
  ],
  'replicaset-controller': [
    rule(['apps'], ['replicasets'], ['get', 'list', 'watch', 'update']),
    rule(['apps'], ['replicasets/status'], ['update']),
    rule(['apps'], ['replicasets/finalizers'], ['update']),
    // update: adopting and releasing pods rewrites their ownerReferences.
    rule([''], ['pods'], ['list', 'watch', 'patch', 'update', 'create', 'delete']),
    ...events(),
  ],
  'deployment-controller': [
    rule(['apps'], ['deployments'], ['get', 'list', 'watch', 'update']),
    rule(['apps'], ['deployments/status'], ['update']),
    rule(['apps'], ['deployments/finalizers'], ['update']),
    rule(['apps'], ['replicasets'], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']),
    rule([''], ['pods'], ['get', 'list', 'watch', 'update']),
    ...events(),
  ],
  'daemon-set-controller': [
    rule(['apps'], ['daemonsets'], READ),
    rule(['apps'], ['daemonsets/status'], ['update']),
    rule(['apps'], ['daemonsets/finalizers'], ['update']),
    rule([''], ['nodes'], ['list', 'watch']),
    rule([''], ['pods'], ['list', 'watch', 'create', 'delete', 'patch', 'update']),
    rule([''], ['pods/binding'], ['create']),
    rule(['apps'], ['controllerrevisions'], ['get', 'list', 'watch', 'create', 'delete', 'update', 'patch']),
    ...events(),
  ],
  'statefulset-controller': [
    rule([''], ['pods'], ['get', 'list', 'watch', 'create', 'delete', 'patch', 'update']),
    rule(['apps'], ['statefulsets'], READ),
    rule(['apps'], ['statefulsets/status'], ['update']),
    rule(['apps'], ['statefulsets/finalizers'], ['update']),
    rule(['apps'], ['controllerrevisions'], ['get', 'list', 'watch', 'create', 'delete', 'update', 'patch']),
    rule([''], ['persistentvolumeclaims'], ['get', 'create', 'update', 'delete']),
    ...events(),
  ],
  'job-controller': [
    rule(['batch'], ['jobs'], ['get', 'list', 'watch', 'update', 'patch']),
    rule(['batch'], ['jobs/status'], ['update', 'patch']),
    rule(['batch'], ['jobs/finalizers'], ['update', 'patch']),
    rule([''], ['pods'], ['list', 'watch', 'create', 'delete', 'patch']),
    ...events(),
  ],
  'ttl-after-finished-controller': [rule(['batch'], ['jobs'], ['get', 'list', 'watch', 'delete']), ...events()],
  'cronjob-controller': [
    rule(['batch'], ['cronjobs'], ['get', 'list', 'watch', 'update']),
    rule(['batch'], ['jobs'], ['get', 'list', 'watch', 'create', 'update', 'delete', 'patch']),
    rule(['batch'], ['cronjobs/status'], ['update']),
    rule(['batch'], ['cronjobs/finalizers'], ['update']),
    rule([''], ['pods'], ['list', 'delete']),
    ...events(),
  ],
  // resourcequota/controller.ts counts usage by listing whatever a quota names.
  'resourcequota-controller': [
    rule(['*'], ['*'], ['list', 'watch']),
    rule([''], ['resourcequotas/status'], ['update']),
    ...events(),
  ],
  // Kubernetes scopes this one to kube-system with a Role; bound the same way below.
  'token-cleaner': [rule([''], ['secrets'], ['delete', 'get', 'list', 'watch']), ...events()],
  'endpoint-controller': [
    rule([''], ['services', 'pods'], READ),
    rule([''], ['endpoints'], ['get', 'list', 'create', 'update', 'delete']),
    rule([''], ['endpoints/restricted'], ['create']),
    ...events(),
  ],
  'endpointslice-controller': [
    rule([''], ['services', 'pods', 'nodes'], READ),
    rule([''], ['services/finalizers'], ['update']),
    rule(['discovery.k8s.io'], ['endpointslices'], ['get', 'list', 'watch', 'create', 'update', 'delete']),
    ...events(),
  ],
  // Skiff's own (k3s's servicelb and ingress status): write the status of what they serve.
  'service-lb-controller': [
    rule([''], ['services'], READ),
    rule([''], ['services/status'], ['update', 'patch']),
    rule([''], ['nodes'], READ),
    ...events(),
  ],
  'ingress-status-controller': [
    rule(['networking.k8s.io'], ['ingresses', 'ingressclasses'], READ),
    rule(['networking.k8s.io'], ['ingresses/status'], ['update', 'patch']),
    rule([''], ['nodes'], READ),
    ...events(),
  ],
  'clusterrole-aggregation-controller': [rule([RBAC], ['clusterroles'], ['escalate', 'get', 'list', 'watch', 'update', 'patch'])],
  'horizontal-pod-autoscaler': [
    rule(['autoscaling'], ['horizontalpodautoscalers'], READ),
    rule(['autoscaling'], ['horizontalpodautoscalers/status'], ['update']),
    rule(['*'], ['*/scale'], ['get', 'update']),
    rule([''], ['pods'], ['list']),
    rule(['metrics.k8s.io'], ['pods'], ['list']),
    ...events(),
  ],
  // CertificateSigningRequest approval, signing and cleanup (src/controllers/csr*).
  'certificate-controller': [
    rule(['certificates.k8s.io'], ['certificatesigningrequests'], ['get', 'list', 'watch', 'delete']),
    rule(['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status'], ['update']),
    rule(['certificates.k8s.io'], ['signers'], ['approve'], ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown']),
    rule(['certificates.k8s.io'], ['signers'], ['sign'], ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown']),
    rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
    ...events(),
  ],
};

/** Skiff controller names (Controller.name) → service account. */
const CONTROLLER_ACCOUNTS: Record<string, string> = {
  'namespace': 'namespace-controller',
  'garbage-collector': 'generic-garbage-collector',
  'serviceaccount': 'service-account-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  'nodeipam': 'node-controller',
  'nodelifecycle': 'node-controller',
  'podgc': 'pod-garbage-collector',
  'replicaset': 'replicaset-controller',
  'deployment': 'deployment-controller',
  'daemonset': 'daemon-set-controller',
  'statefulset': 'statefulset-controller',
  'job': 'job-controller',
  'ttl-after-finished': 'ttl-after-finished-controller',
  'resourcequota': 'resourcequota-controller',
  'tokencleaner': 'token-cleaner',
  'cronjob': 'cronjob-controller',
  'endpoints': 'endpoint-controller',
  'endpointslice': 'endpointslice-controller',
  'service-lb': 'service-lb-controller',
  'ingress-status': 'ingress-status-controller',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
  'horizontal-pod-autoscaler': 'horizontal-pod-autoscaler',
};

const SCHEDULER_RULES: PolicyRule[] = [
  ...events(),
  rule(['coordination.k8s.io'], ['leases'], ['create']),
  rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['kube-scheduler']),
  rule([''], ['nodes'], READ),
  rule([''], ['pods'], [...READ, 'delete']),
  rule([''], ['bindings', 'pods/binding'], ['create']),
  rule([''], ['pods/status'], ['patch', 'update']),
  rule([''], ['namespaces', 'services', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes'], ['list', 'watch']),
  rule(['apps'], ['replicasets', 'statefulsets'], ['list', 'watch']),
  rule(['policy'], ['poddisruptionbudgets'], ['list', 'watch']),
  rule(['storage.k8s.io'], ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities'], ['list', 'watch']),
  rule(['scheduling.k8s.io'], ['priorityclasses'], ['list', 'watch']),
];

const CONTROLLER_MANAGER_RULES: PolicyRule[] = [
  ...events(),
  // The controller lease (controllers/leader/elector.ts).
  rule(['coordination.k8s.io'], ['leases'], ['create']),
  rule(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['skiff-controllers', 'kube-controller-manager']),
  // The service accounts it runs controllers as.
  rule([''], ['serviceaccounts'], ['create']),
  rule([''], ['namespaces', 'serviceaccounts'], ['get']),
  // Shared informers list and watch for every controller.
  rule(['*'], ['*'], ['list', 'watch']),
  rule(['authentication.k8s.io'], ['tokenreviews'], ['create']),
  rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
];

const serviceAccountUser = (sa: string): UserInfo => ({
  name: `system:serviceaccount:${CONTROLLER_NAMESPACE}:${sa}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${CONTROLLER_NAMESPACE}`, AUTHENTICATED_GROUP],
});

/** The user a controller runs as, or undefined when it has no bootstrap role here. */
export function controllerUser(controllerName: string): UserInfo | undefined {
  if (controllerName === 'scheduler') return schedulerUser();
  const sa = CONTROLLER_ACCOUNTS[controllerName] ?? (/^csr|certificate/.test(controllerName) ? 'certificate-controller' : undefined);
  return sa ? serviceAccountUser(sa) : undefined;
}

export const schedulerUser = (): UserInfo => ({ name: SCHEDULER_USER, groups: [AUTHENTICATED_GROUP] });
export const controllerManagerUser = (): UserInfo => ({ name: CONTROLLER_MANAGER_USER, groups: [AUTHENTICATED_GROUP] });

/** The service accounts the controllers run as (made in kube-system for fidelity; RBAC matches the name alone). */
export function controllerServiceAccounts(): string[] {
  return Object.keys(CONTROLLER_RULES);
}

function meta(name: string): KObject['metadata'] {
  return { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE]: 'true' } };
}

export function controllerClusterRoles(): KObject[] {
  const role = (name: string, rules: PolicyRule[]): KObject => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: meta(name), rules });
  return [
    role(CONTROLLER_MANAGER_USER, CONTROLLER_MANAGER_RULES),
    role(SCHEDULER_USER, SCHEDULER_RULES),
    ...Object.entries(CONTROLLER_RULES).filter(([sa]) => sa !== 'token-cleaner').map(([sa, rules]) => role(`${PREFIX}${sa}`, rules)),
  ];
}

export function controllerClusterRoleBindings(): KObject[] {
  const binding = (name: string, subject: Record<string, string>): KObject => ({
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: meta(name),
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name }, subjects: [subject],
  });
  return [
    binding(CONTROLLER_MANAGER_USER, { apiGroup: RBAC, kind: 'User', name: CONTROLLER_MANAGER_USER }),
    binding(SCHEDULER_USER, { apiGroup: RBAC, kind: 'User', name: SCHEDULER_USER }),
    ...Object.keys(CONTROLLER_RULES).filter((sa) => sa !== 'token-cleaner')
      .map((sa) => binding(`${PREFIX}${sa}`, { kind: 'ServiceAccount', name: sa, namespace: CONTROLLER_NAMESPACE })),
  ];
}

/**
 * What the controller manager makes before it starts controllers: their service accounts
 * in kube-system (as kube-controller-manager does; RBAC matches the user name, so a deleted
 * one does not stop its controller) and the token cleaner's Role and RoleBinding there.
 */
export async function ensureControllerAccounts(client: ApiClient): Promise<void> {
  const accounts = client.resource('', 'v1', 'serviceaccounts');
  for (const sa of controllerServiceAccounts()) {
    if (await accounts.tryGet(CONTROLLER_NAMESPACE, sa)) continue;
    await ignoreConflict(accounts.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: CONTROLLER_NAMESPACE } }));
  }
  const name = `${PREFIX}token-cleaner`;
  const roles = client.resource(RBAC, 'v1', 'roles');
  const want: KObject = { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { ...meta(name), namespace: CONTROLLER_NAMESPACE }, rules: CONTROLLER_RULES['token-cleaner'] };
  const have = await roles.tryGet(CONTROLLER_NAMESPACE, name);
  if (!have) await ignoreConflict(roles.create(want));
  else if (have.metadata.annotations?.[AUTOUPDATE] !== 'false' && JSON.stringify(have.rules) !== JSON.stringify(want.rules)) await roles.update({ ...have, rules: want.rules });
  const bindings = client.resource(RBAC, 'v1', 'rolebindings');
  if (!await bindings.tryGet(CONTROLLER_NAMESPACE, name)) {
    await ignoreConflict(bindings.create({
      apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { ...meta(name), namespace: CONTROLLER_NAMESPACE },
      roleRef: { apiGroup: RBAC, kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name: 'token-cleaner', namespace: CONTROLLER_NAMESPACE }],
    }));
  }
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}
