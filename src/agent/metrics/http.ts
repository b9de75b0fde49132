// The two metrics paths of the agent's kubelet-like server, answered from a MetricsEndpoints
// (the collector). The server calls `serveMetrics` for any path; it answers false for paths that
// are not its own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_TYPE } from './prometheus.ts';

export interface MetricsEndpoints {
  /** /metrics/resource: node, pod and container CPU and memory (what metrics-server scrapes). */
  resourceMetrics(): Promise<string>;
  /** /metrics: the agent's own process metrics and counters. */
  agentMetrics(): Promise<string>;
}

export const METRICS_PATHS = new Set(['/metrics', '/metrics/resource']);

/** Serves GET/HEAD /metrics and /metrics/resource; false when the path is not a metrics path. */
export async function serveMetrics(m: MetricsEndpoints | undefined, pathname: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (!m || !METRICS_PATHS.has(path)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' });
    res.end(`method ${req.method} not allowed\n`);
    return true;
  }
  const body = path === '/metrics' ? await m.agentMetrics() : await m.resourceMetrics();
  res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
