// The metrics.k8s.io/v1beta1 resources, for discovery only: they are served by api.ts from
// the scraper, not stored, so they stay out of the scheme's RESOURCES (which the registry,
// the namespace controller, the garbage collector and OpenAPI walk).
import type { ResourceInfo } from '../../api/scheme.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';

const metricsResource = (resource: string, kind: string, namespaced: boolean): ResourceInfo => ({
  group: METRICS_GROUP, version: METRICS_VERSION, resource, kind, namespaced,
  // metrics-server lists no singular name; kubectl guesses one.
  singular: '', verbs: ['get', 'list'], subresources: [],
});

export const METRICS_RESOURCES: ResourceInfo[] = [
  metricsResource('nodes', 'NodeMetrics', false),
  metricsResource('pods', 'PodMetrics', true),
];
