// Services and EndpointSlices for the dns tests.
import type { KObject } from '../api/object.ts';

export function service(ns: string, name: string, spec: Record<string, unknown>): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}

export function slice(ns: string, svc: string, name: string, endpoints: Record<string, unknown>[], ports: Record<string, unknown>[] = []): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } }, endpoints, ports,
  };
}

const ep = (ip: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ addresses: [ip], conditions: { ready: true }, ...extra });

export function fixture(): { services: KObject[]; slices: KObject[] } {
  return {
    services: [
      service('default', 'web', { type: 'ClusterIP', clusterIP: '10.43.0.10', clusterIPs: ['10.43.0.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9000 }] }),
      service('default', 'db', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'pg', port: 5432 }] }),
      service('default', 'ext', { type: 'ExternalName', externalName: 'example.com.' }),
      service('other', 'dual', { clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20', 'fd00:43::20'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    ],
    slices: [
      slice('default', 'web', 'web-abc', [ep('10.42.0.5'), ep('10.42.0.6', { conditions: { ready: false } })], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
      slice('default', 'db', 'db-abc', [ep('10.42.0.7', { hostname: 'db-0' }), ep('10.42.0.8'), ep('10.42.0.9', { conditions: { ready: false } })], [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
    ],
  };
}
