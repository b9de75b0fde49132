// Every controller the server runs (while it holds the controller Lease), in start order.
import type { Registry } from '../apiserver/registry/registry.ts';
import type { Logger } from '../util/log.ts';
import { SchedulerController } from '../scheduler/controller.ts';
import { GarbageCollector } from './garbagecollector/controller.ts';
import { NamespaceController } from './namespace/controller.ts';
import { ServiceAccountController } from './serviceaccount/controller.ts';
import { RootCACertPublisher } from './rootcacertpublisher/controller.ts';
import { NodeIpamController } from './nodeipam/controller.ts';
import { NodeLifecycleController } from './nodelifecycle/controller.ts';
import { PodGCController } from './podgc/controller.ts';
import { DaemonSetController } from './daemonset/controller.ts';
import { StatefulSetController } from './statefulset/controller.ts';
import { JobController } from './job/controller.ts';
import { TTLAfterFinishedController } from './ttl/controller.ts';
import { ResourceQuotaController } from './resourcequota/controller.ts';
import { TokenCleaner } from './tokencleaner/controller.ts';
import { CronJobController } from './cronjob/controller.ts';
import { ReplicaSetController } from './replicaset/controller.ts';
import { DeploymentController } from './deployment/controller.ts';
import { EndpointsController } from './endpoints/controller.ts';
import { EndpointSliceController } from './endpointslice/controller.ts';
import { HorizontalPodAutoscalerController } from './horizontalpodautoscaler/controller.ts';
import { ServiceLBController } from './servicelb/controller.ts';
import { IngressStatusController } from './ingressstatus/controller.ts';
import { ClusterRoleAggregationController } from './clusterroleaggregation/controller.ts';
import { RegistryScaleClient } from './horizontalpodautoscaler/scale.ts';
import { CsrController } from './csr/controller.ts';
import type { Attributes } from '../apiserver/authz/types.ts';
import type { ResourceMetricsSource } from '../apiserver/metrics/types.ts';
import type { Controller } from './types.ts';

/** Wraps a component that manages its own watches as a Controller. */
function component(name: string, make: () => { start(): Promise<void>; stop(): void }): Controller {
  let running: { stop(): void } | undefined;
  return {
    name,
    async start() { const c = make(); running = c; await c.start(); },
    stop() { running?.stop(); running = undefined; },
  };
}

export interface ControllerOptions {
  /** The cluster CA (PEM) the root CA publisher puts in every namespace's kube-root-ca.crt. */
  caCertPem?: string;
  nodeMonitorGracePeriodMs?: number;
  /** Pod usage for the HorizontalPodAutoscaler (the API server's metrics scraper). */
  metrics?: ResourceMetricsSource;
  /** The registry as one controller may use it (its own identity, authorized; see manager.ts). */
  registryFor?: (controller: string) => Registry;
  /** The CA key and the authorizer: the CSR approver and signer run when both are given (controllers/csr/). */
  csr?: { caKeyPem: string; authorize(a: Attributes): Promise<boolean> };
}

export function builtInControllers(registry: Registry, log: Logger, opts: ControllerOptions = {}): Controller[] {
  const as = (controller: string): Registry => opts.registryFor?.(controller) ?? registry;
  return [
    component('namespace', () => new NamespaceController(as('namespace'), log.child('namespace-controller'))),
    component('garbage-collector', () => new GarbageCollector(as('garbage-collector'), log.child('garbage-collector'))),
    new ServiceAccountController(),
    ...(opts.caCertPem ? [new RootCACertPublisher({ caCertPem: opts.caCertPem })] : []),
    new NodeIpamController(),
    new NodeLifecycleController({ gracePeriodMs: opts.nodeMonitorGracePeriodMs }),
    new PodGCController(),
    new SchedulerController(as('scheduler')),
    new ReplicaSetController(),
    new DeploymentController(),
    new DaemonSetController(),
    new StatefulSetController(),
    new JobController(),
    new TTLAfterFinishedController(),
    new ResourceQuotaController(),
    new TokenCleaner(),
    new CronJobController(),
    new EndpointsController(),
    new EndpointSliceController(),
    new ServiceLBController(),
    new IngressStatusController(),
    new ClusterRoleAggregationController(),
    new HorizontalPodAutoscalerController({ metrics: opts.metrics, scale: new RegistryScaleClient(as('horizontal-pod-autoscaler')) }),
    ...(opts.caCertPem && opts.csr ? [new CsrController({ registry: as('csr'), ca: { certPem: opts.caCertPem, keyPem: opts.csr.caKeyPem }, authorize: opts.csr.authorize })] : []),
  ];
}
