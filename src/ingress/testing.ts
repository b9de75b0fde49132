// Fixtures for the ingress tests: Services, EndpointSlices, Ingresses as the API has them.
import type { KObject } from '../api/object.ts';

export function service(name: string, ports: { name?: string; port: number; protocol?: string }[], ns = 'default'): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: 'ClusterIP', ports: ports.map((p) => ({ protocol: 'TCP', ...p })) } };
}

export function endpointSlice(svc: string, ports: { name?: string; port: number }[], endpoints: { ip: string; ready?: boolean }[], ns = 'default', suffix = 'abc'): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${svc}-${suffix}`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: 'TCP' })),
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: e.ready === undefined ? {} : { ready: e.ready } })),
  };
}

export function simpleIngress(name: string, rules: { host?: string; path?: string; pathType?: string; svc: string; port: number | string }[], defaultBackend?: { svc: string; port: number | string }): KObject {
  const backend = (svc: string, port: number | string) => ({ service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } });
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      ingressClassName: 'skiff',
      ...(defaultBackend ? { defaultBackend: backend(defaultBackend.svc, defaultBackend.port) } : {}),
      rules: rules.map((r) => ({ ...(r.host ? { host: r.host } : {}), http: { paths: [{ path: r.path ?? '/', pathType: r.pathType ?? 'Prefix', backend: backend(r.svc, r.port) }] } })),
    },
  };
}
