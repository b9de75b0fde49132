// Which root message decodes each apiVersion/kind we accept as protobuf.
// Only kinds whose message (and everything it references) is in messages.ts.

const BY_GROUP_VERSION: Record<string, string[]> = {
  v1: [
    'Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'ResourceQuota',
    'Pod', 'PersistentVolumeClaim', 'LimitRange',
  ],
  'apps/v1': ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet'],
  'autoscaling/v1': ['HorizontalPodAutoscaler'],
  'batch/v1': ['Job', 'CronJob'],
  'rbac.authorization.k8s.io/v1': ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  'scheduling.k8s.io/v1': ['PriorityClass'],
  'policy/v1': ['PodDisruptionBudget'],
  'networking.k8s.io/v1': ['Ingress'],
  'authentication.k8s.io/v1': ['TokenRequest'],
  'certificates.k8s.io/v1': ['CertificateSigningRequest'],
  'authorization.k8s.io/v1': ['SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview', 'LocalSubjectAccessReview'],
};

const ROOTS = new Map<string, string>(
  Object.entries(BY_GROUP_VERSION).flatMap(([gv, kinds]) => kinds.map((k) => [`${gv}/${k}`, k] as [string, string])),
);

/** The message type for apiVersion/kind, or undefined when unsupported. */
export function rootMessage(apiVersion: string, kind: string): string | undefined {
  return ROOTS.get(`${apiVersion}/${kind}`);
}
