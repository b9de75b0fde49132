// Services and EndpointSlices for the proxy's tests and benchmark.
import type { KObject } from '../api/object.ts';

export function service(ns: string, name: string, spec: Record<string, unknown>, status?: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { type: 'ClusterIP', ...spec }, ...(status ? { status } : {}) };
}

export function slice(ns: string, svc: string, name: string, endpoints: Record<string, unknown>[], ports: Record<string, unknown>[]): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } }, endpoints, ports,
  };
}

export const ep = (ip: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ addresses: [ip], conditions: { ready: true }, ...extra });
