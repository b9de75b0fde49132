// How lists and maps of the served kinds merge. client-node's models carry none of the
// Kubernetes extensions that strategic merge patch and server-side apply need, so they
// are written here by hand, with the values Kubernetes 1.32 publishes (from the
// +patchMergeKey, +patchStrategy, +listType, +listMapKey, +mapType/+structType markers
// of the Go types). Loading definitions merges this table into the generated schemas.

export interface PatchMetadata {
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

const ATOMIC: PatchMetadata = { 'x-kubernetes-list-type': 'atomic' };
const SET: PatchMetadata = { 'x-kubernetes-list-type': 'set' };
const ATOMIC_MAP: PatchMetadata = { 'x-kubernetes-map-type': 'atomic' };

/** A list merged by key under both strategic merge patch and apply. */
function keyed(mergeKey: string, listMapKeys: string[] = [mergeKey], strategy = 'merge'): PatchMetadata {
  return {
    'x-kubernetes-list-map-keys': listMapKeys,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-patch-merge-key': mergeKey,
    'x-kubernetes-patch-strategy': strategy,
  };
}

/** Status conditions: one entry per condition type. */
const CONDITIONS = keyed('type');

const core = (t: string): string => `io.k8s.api.core.v1.${t}`;
const meta = (t: string): string => `io.k8s.apimachinery.pkg.apis.meta.v1.${t}`;
const apps = (t: string): string => `io.k8s.api.apps.v1.${t}`;
const batch = (t: string): string => `io.k8s.api.batch.v1.${t}`;
const rbac = (t: string): string => `io.k8s.api.rbac.v1.${t}`;
const networking = (t: string): string => `io.k8s.api.networking.v1.${t}`;
const discovery = (t: string): string => `io.k8s.api.discovery.v1.${t}`;

const CONTAINER_FIELDS: Record<string, PatchMetadata> = {
  args: ATOMIC,
  command: ATOMIC,
  env: keyed('name'),
  envFrom: ATOMIC,
  ports: keyed('containerPort', ['containerPort', 'protocol']),
  resizePolicy: ATOMIC,
  restartPolicyRules: ATOMIC,
  volumeDevices: keyed('devicePath'),
  volumeMounts: keyed('mountPath'),
};

/** definition name → property name → extensions on that property's schema. */
export const FIELD_PATCH_METADATA: Record<string, Record<string, PatchMetadata>> = {
  // meta/v1
  [meta('ObjectMeta')]: {
    finalizers: { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
    managedFields: ATOMIC,
    ownerReferences: keyed('uid'),
  },
  [meta('LabelSelector')]: { matchExpressions: ATOMIC },
  [meta('LabelSelectorRequirement')]: { values: ATOMIC },
  [meta('DeleteOptions')]: { dryRun: ATOMIC },
  [meta('StatusDetails')]: { causes: ATOMIC },

  // core/v1 pods
  [core('PodSpec')]: {
    containers: keyed('name'),
    ephemeralContainers: keyed('name'),
    hostAliases: keyed('ip'),
    imagePullSecrets: keyed('name'),
    initContainers: keyed('name'),
    nodeSelector: ATOMIC_MAP,
    readinessGates: ATOMIC,
    resourceClaims: keyed('name', ['name'], 'merge,retainKeys'),
    schedulingGates: keyed('name'),
    tolerations: ATOMIC,
    topologySpreadConstraints: keyed('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
    volumes: keyed('name', ['name'], 'merge,retainKeys'),
  },
  [core('Container')]: CONTAINER_FIELDS,
  [core('EphemeralContainer')]: CONTAINER_FIELDS,
  [core('PodStatus')]: {
    conditions: CONDITIONS,
    containerStatuses: ATOMIC,
    ephemeralContainerStatuses: ATOMIC,
    hostIPs: { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'ip', 'x-kubernetes-patch-strategy': 'merge' },
    initContainerStatuses: ATOMIC,
    podIPs: keyed('ip'),
    resourceClaimStatuses: keyed('name', ['name'], 'merge,retainKeys'),
  },
  [core('ContainerStatus')]: {
    allocatedResourcesStatus: keyed('name'),
    volumeMounts: keyed('mountPath'),
  },
  [core('ResourceStatus')]: { resources: keyed('resourceID', ['resourceID']) },
  [core('ResourceRequirements')]: { claims: { 'x-kubernetes-list-map-keys': ['name'], 'x-kubernetes-list-type': 'map' } },
  [core('PodSecurityContext')]: { supplementalGroups: ATOMIC, sysctls: ATOMIC },
  [core('Capabilities')]: { add: ATOMIC, drop: ATOMIC },
  [core('PodDNSConfig')]: { nameservers: ATOMIC, options: ATOMIC, searches: ATOMIC },
  [core('HostAlias')]: { hostnames: ATOMIC },
  [core('ExecAction')]: { command: ATOMIC },
  [core('HTTPGetAction')]: { httpHeaders: ATOMIC },
  [core('NodeAffinity')]: { preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  [core('NodeSelector')]: { nodeSelectorTerms: ATOMIC },
  [core('NodeSelectorTerm')]: { matchExpressions: ATOMIC, matchFields: ATOMIC },
  [core('NodeSelectorRequirement')]: { values: ATOMIC },
  [core('PodAffinity')]: { preferredDuringSchedulingIgnoredDuringExecution: ATOMIC, requiredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  [core('PodAntiAffinity')]: { preferredDuringSchedulingIgnoredDuringExecution: ATOMIC, requiredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  [core('PodAffinityTerm')]: { matchLabelKeys: ATOMIC, mismatchLabelKeys: ATOMIC, namespaces: ATOMIC },
  [core('TopologySpreadConstraint')]: { matchLabelKeys: ATOMIC },
  [core('ConfigMapVolumeSource')]: { items: ATOMIC },
  [core('SecretVolumeSource')]: { items: ATOMIC },
  [core('ConfigMapProjection')]: { items: ATOMIC },
  [core('SecretProjection')]: { items: ATOMIC },
  [core('DownwardAPIVolumeSource')]: { items: ATOMIC },
  [core('DownwardAPIProjection')]: { items: ATOMIC },
  [core('ProjectedVolumeSource')]: { sources: ATOMIC },
  [core('CephFSVolumeSource')]: { monitors: ATOMIC },
  [core('CephFSPersistentVolumeSource')]: { monitors: ATOMIC },
  [core('RBDVolumeSource')]: { monitors: ATOMIC },
  [core('RBDPersistentVolumeSource')]: { monitors: ATOMIC },
  [core('ISCSIVolumeSource')]: { portals: ATOMIC },
  [core('ISCSIPersistentVolumeSource')]: { portals: ATOMIC },
  [core('FCVolumeSource')]: { targetWWNs: ATOMIC, wwids: ATOMIC },

  // core/v1 other kinds
  [core('ServiceSpec')]: {
    clusterIPs: ATOMIC,
    externalIPs: ATOMIC,
    ipFamilies: ATOMIC,
    loadBalancerSourceRanges: ATOMIC,
    ports: keyed('port', ['port', 'protocol']),
    selector: ATOMIC_MAP,
  },
  [core('ServiceStatus')]: { conditions: CONDITIONS },
  [core('LoadBalancerStatus')]: { ingress: ATOMIC },
  [core('LoadBalancerIngress')]: { ports: ATOMIC },
  [core('Endpoints')]: { subsets: ATOMIC },
  [core('EndpointSubset')]: { addresses: ATOMIC, notReadyAddresses: ATOMIC, ports: ATOMIC },
  [core('NodeSpec')]: {
    podCIDRs: { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
    taints: ATOMIC,
  },
  [core('NodeStatus')]: {
    addresses: CONDITIONS,
    conditions: CONDITIONS,
    images: ATOMIC,
    runtimeHandlers: ATOMIC,
    volumesAttached: ATOMIC,
    volumesInUse: ATOMIC,
  },
  [core('ContainerImage')]: { names: ATOMIC },
  [core('NamespaceSpec')]: { finalizers: ATOMIC },
  [core('NamespaceStatus')]: { conditions: CONDITIONS },
  [core('ServiceAccount')]: { imagePullSecrets: ATOMIC, secrets: keyed('name') },
  [core('PersistentVolumeClaimSpec')]: { accessModes: ATOMIC },
  [core('PersistentVolumeClaimStatus')]: { accessModes: ATOMIC, allocatedResourceStatuses: { 'x-kubernetes-map-type': 'granular' }, conditions: CONDITIONS },
  [core('PersistentVolumeSpec')]: { accessModes: ATOMIC, mountOptions: ATOMIC },
  [core('LimitRangeSpec')]: { limits: ATOMIC },
  [core('ResourceQuotaSpec')]: { scopes: ATOMIC },
  [core('ScopeSelector')]: { matchExpressions: ATOMIC },
  [core('ScopedResourceSelectorRequirement')]: { values: ATOMIC },
  [core('ReplicationControllerSpec')]: { selector: ATOMIC_MAP },
  [core('ReplicationControllerStatus')]: { conditions: CONDITIONS },
  [core('TopologySelectorTerm')]: { matchLabelExpressions: ATOMIC },
  [core('TopologySelectorLabelRequirement')]: { values: ATOMIC },

  // apps/v1
  [apps('DeploymentSpec')]: { strategy: { 'x-kubernetes-patch-strategy': 'retainKeys' } },
  [apps('DeploymentStatus')]: { conditions: CONDITIONS },
  [apps('ReplicaSetStatus')]: { conditions: CONDITIONS },
  [apps('StatefulSetSpec')]: { volumeClaimTemplates: ATOMIC },
  [apps('StatefulSetStatus')]: { conditions: CONDITIONS },
  [apps('DaemonSetStatus')]: { conditions: CONDITIONS },

  // batch/v1
  [batch('JobStatus')]: {
    conditions: { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge' },
  },
  [batch('CronJobStatus')]: { active: ATOMIC },
  [batch('PodFailurePolicy')]: { rules: ATOMIC },
  [batch('PodFailurePolicyRule')]: { onPodConditions: ATOMIC },
  [batch('PodFailurePolicyOnExitCodesRequirement')]: { values: SET },
  [batch('SuccessPolicy')]: { rules: ATOMIC },
  [batch('UncountedTerminatedPods')]: { failed: SET, succeeded: SET },

  // discovery.k8s.io/v1
  [discovery('EndpointSlice')]: { endpoints: ATOMIC, ports: ATOMIC },
  [discovery('Endpoint')]: { addresses: SET },
  [discovery('EndpointHints')]: { forNodes: ATOMIC, forZones: ATOMIC },

  // rbac.authorization.k8s.io/v1
  [rbac('Role')]: { rules: ATOMIC },
  [rbac('ClusterRole')]: { rules: ATOMIC },
  [rbac('RoleBinding')]: { subjects: ATOMIC },
  [rbac('ClusterRoleBinding')]: { subjects: ATOMIC },
  [rbac('AggregationRule')]: { clusterRoleSelectors: ATOMIC },
  [rbac('PolicyRule')]: { apiGroups: ATOMIC, nonResourceURLs: ATOMIC, resourceNames: ATOMIC, resources: ATOMIC, verbs: ATOMIC },

  // policy/v1
  [`io.k8s.api.policy.v1.PodDisruptionBudgetSpec`]: { selector: { 'x-kubernetes-patch-strategy': 'replace' } },
  [`io.k8s.api.policy.v1.PodDisruptionBudgetStatus`]: { conditions: CONDITIONS },

  // autoscaling/v2
  [`io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec`]: { metrics: ATOMIC },
  [`io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus`]: { conditions: CONDITIONS, currentMetrics: ATOMIC },
  [`io.k8s.api.autoscaling.v2.HPAScalingRules`]: { policies: ATOMIC },

  // networking.k8s.io/v1
  [networking('NetworkPolicySpec')]: { egress: ATOMIC, ingress: ATOMIC, policyTypes: ATOMIC },
  [networking('NetworkPolicyIngressRule')]: { from: ATOMIC, ports: ATOMIC },
  [networking('NetworkPolicyEgressRule')]: { ports: ATOMIC, to: ATOMIC },
  [networking('IPBlock')]: { except: ATOMIC },
  [networking('IngressSpec')]: { rules: ATOMIC, tls: ATOMIC },
  [networking('IngressTLS')]: { hosts: ATOMIC },
  [networking('HTTPIngressRuleValue')]: { paths: ATOMIC },
  [networking('IngressLoadBalancerStatus')]: { ingress: ATOMIC },
  [networking('IngressLoadBalancerIngress')]: { ports: ATOMIC },

  // storage.k8s.io/v1
  [`io.k8s.api.storage.v1.StorageClass`]: { allowedTopologies: ATOMIC, mountOptions: ATOMIC },

  // admissionregistration.k8s.io/v1
  ['io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration']: { webhooks: keyed('name') },
  ['io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration']: { webhooks: keyed('name') },
  ['io.k8s.api.admissionregistration.v1.MutatingWebhook']: { rules: ATOMIC, admissionReviewVersions: ATOMIC, matchConditions: keyed('name') },
  ['io.k8s.api.admissionregistration.v1.ValidatingWebhook']: { rules: ATOMIC, admissionReviewVersions: ATOMIC, matchConditions: keyed('name') },
  ['io.k8s.api.admissionregistration.v1.RuleWithOperations']: { operations: ATOMIC, apiGroups: ATOMIC, apiVersions: ATOMIC, resources: ATOMIC },
};

/** Structs that apply replaces as a whole (+structType=atomic): definition name → extensions. */
export const TYPE_PATCH_METADATA: Record<string, PatchMetadata> = {
  [meta('LabelSelector')]: ATOMIC_MAP,
  [meta('OwnerReference')]: ATOMIC_MAP,
  [core('LocalObjectReference')]: ATOMIC_MAP,
  [core('ObjectReference')]: ATOMIC_MAP,
  [core('TypedLocalObjectReference')]: ATOMIC_MAP,
  [core('SecretReference')]: ATOMIC_MAP,
  [core('ConfigMapKeySelector')]: ATOMIC_MAP,
  [core('SecretKeySelector')]: ATOMIC_MAP,
  [core('ObjectFieldSelector')]: ATOMIC_MAP,
  [core('ResourceFieldSelector')]: ATOMIC_MAP,
  [core('NodeSelector')]: ATOMIC_MAP,
  [core('NodeSelectorTerm')]: ATOMIC_MAP,
  [core('TopologySelectorTerm')]: ATOMIC_MAP,
  [core('EndpointAddress')]: ATOMIC_MAP,
  [core('EndpointPort')]: ATOMIC_MAP,
  [discovery('EndpointPort')]: ATOMIC_MAP,
  [rbac('RoleRef')]: ATOMIC_MAP,
  [rbac('Subject')]: ATOMIC_MAP,
};
