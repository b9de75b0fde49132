export { MetricsScraper, type ScraperOptions } from './scraper.ts';
export { MetricsStore, readScrape, usageOf as usageFromSeries } from './store.ts';
export { serveMetricsApi, isMetricsPath, goDuration, nodeMetricsObject, podMetricsObject } from './api.ts';
export { METRICS_RESOURCES, METRICS_GROUP, METRICS_VERSION } from './resources.ts';
export type { ResourceMetricsSource, NodeMetricsPoint, PodMetricsPoint, ContainerMetricsPoint, ResourceUsage } from './types.ts';
