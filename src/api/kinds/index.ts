// strategyFor(group, kind): the behaviour the registry applies to one kind. Kinds with
// their own file are listed here; every other kind gets metadata validation with
// DNS-1123 subdomain names and nothing else.
import { RESOURCES } from '../scheme.ts';
import { certificateSigningRequestKind } from './certificatesigningrequest.ts';
import { configMapKind } from './configmap.ts';
import { controllerRevisionKind } from './controllerrevision.ts';
import { cronJobKind } from './cronjob.ts';
import { daemonSetKind } from './daemonset.ts';
import { deploymentKind } from './deployment.ts';
import { endpointSliceKind } from './endpointslice.ts';
import { endpointsKind } from './endpoints.ts';
import { horizontalPodAutoscalerKind } from './horizontalpodautoscaler.ts';
import { coreEventKind, eventsEventKind } from './event.ts';
import { ingressClassKind } from './ingressclass.ts';
import { ingressKind } from './ingress.ts';
import { jobKind } from './job.ts';
import { leaseKind } from './lease.ts';
import { limitRangeKind } from './limitrange.ts';
import { namespaceKind } from './namespace.ts';
import { networkPolicyKind } from './networkpolicy.ts';
import { nodeKind } from './node.ts';
import { persistentVolumeClaimKind } from './persistentvolumeclaim.ts';
import { persistentVolumeKind } from './persistentvolume.ts';
import { podDisruptionBudgetKind } from './poddisruptionbudget.ts';
import { podTemplateKind } from './podtemplate.ts';
import { podKind } from './pod.ts';
import { priorityClassKind } from './priorityclass.ts';
import { clusterRoleBindingKind, roleBindingKind } from './rbac-binding.ts';
import { clusterRoleKind, roleKind } from './rbac-role.ts';
import { replicaSetKind } from './replicaset.ts';
import { replicationControllerKind } from './replicationcontroller.ts';
import { resourceQuotaKind } from './resourcequota.ts';
import { secretKind } from './secret.ts';
import { serviceAccountKind } from './serviceaccount.ts';
import { serviceKind } from './service.ts';
import { statefulSetKind } from './statefulset.ts';
import { storageClassKind } from './storageclass.ts';
import { mutatingWebhookConfigurationKind, validatingWebhookConfigurationKind } from './webhook-configuration.ts';
import { defineStrategy, type KindDefinition } from './strategy.ts';
import type { KindStrategy } from './types.ts';

export type { KindStrategy, TableDef, TableColumn, ScaleDef } from './types.ts';

const RBAC = 'rbac.authorization.k8s.io';

/** Keyed by "group/Kind" ("" group for core: "/Pod"). */
const DEFINITIONS: Record<string, KindDefinition> = {
  '/Pod': podKind,
  '/Service': serviceKind,
  '/Namespace': namespaceKind,
  '/Node': nodeKind,
  '/ConfigMap': configMapKind,
  '/Secret': secretKind,
  '/ServiceAccount': serviceAccountKind,
  '/Event': coreEventKind,
  '/Endpoints': endpointsKind,
  '/PersistentVolume': persistentVolumeKind,
  '/PersistentVolumeClaim': persistentVolumeClaimKind,
  '/LimitRange': limitRangeKind,
  '/ResourceQuota': resourceQuotaKind,
  '/ReplicationController': replicationControllerKind,
  '/PodTemplate': podTemplateKind,
  'apps/Deployment': deploymentKind,
  'apps/ReplicaSet': replicaSetKind,
  'apps/StatefulSet': statefulSetKind,
  'apps/DaemonSet': daemonSetKind,
  'apps/ControllerRevision': controllerRevisionKind,
  'autoscaling/HorizontalPodAutoscaler': horizontalPodAutoscalerKind,
  'batch/Job': jobKind,
  'batch/CronJob': cronJobKind,
  'certificates.k8s.io/CertificateSigningRequest': certificateSigningRequestKind,
  'coordination.k8s.io/Lease': leaseKind,
  'discovery.k8s.io/EndpointSlice': endpointSliceKind,
  'events.k8s.io/Event': eventsEventKind,
  [`${RBAC}/Role`]: roleKind,
  [`${RBAC}/ClusterRole`]: clusterRoleKind,
  [`${RBAC}/RoleBinding`]: roleBindingKind,
  [`${RBAC}/ClusterRoleBinding`]: clusterRoleBindingKind,
  'scheduling.k8s.io/PriorityClass': priorityClassKind,
  'policy/PodDisruptionBudget': podDisruptionBudgetKind,
  'networking.k8s.io/Ingress': ingressKind,
  'networking.k8s.io/IngressClass': ingressClassKind,
  'networking.k8s.io/NetworkPolicy': networkPolicyKind,
  'storage.k8s.io/StorageClass': storageClassKind,
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': mutatingWebhookConfigurationKind,
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': validatingWebhookConfigurationKind,
};

const cache = new Map<string, KindStrategy>();

/** Whether the scheme serves this kind namespaced; undefined for kinds it does not know. */
function namespacedOf(group: string, kind: string): boolean | undefined {
  return RESOURCES.find((r) => r.group === group && r.kind === kind)?.namespaced;
}

export function strategyFor(group: string, kind: string): KindStrategy {
  const key = `${group}/${kind}`;
  let strategy = cache.get(key);
  if (!strategy) {
    strategy = defineStrategy(DEFINITIONS[key] ?? {}, namespacedOf(group, kind));
    cache.set(key, strategy);
  }
  return strategy;
}

/** Group/kind pairs that have behaviour of their own (for tests and docs). */
export const KINDS_WITH_OWN_BEHAVIOUR = Object.keys(DEFINITIONS);
