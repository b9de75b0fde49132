// The `kubernetes` Service in `default`, its Endpoints and EndpointSlice (what service
// proxies read), as kube-apiserver keeps them:
// the first address of the service CIDR, port 443 (https) to the API server's own address
// and port. Written at every start, so a server that came back on another port is found.
import type { InProcessClient } from '../client/inprocess.ts';
import type { KObject } from '../api/object.ts';
import { kubernetesServiceIP, type ServiceRange } from '../apiserver/registry/service-ips.ts';

export async function ensureKubernetesService(client: InProcessClient, opts: { range: ServiceRange; host: string; port: number }): Promise<void> {
  const services = client.resource('', 'v1', 'services');
  const endpoints = client.resource('', 'v1', 'endpoints');
  const ports = [{ name: 'https', protocol: 'TCP', port: 443, targetPort: opts.port }];
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const svc = await services.tryGet('default', 'kubernetes');
  if (!svc) {
    const ip = kubernetesServiceIP(opts.range);
    await ignoreConflict(services.create({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default', labels },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports, sessionAffinity: 'None' },
    }));
  } else if (JSON.stringify((svc.spec as { ports?: unknown }).ports) !== JSON.stringify(ports)) {
    await services.patch('default', 'kubernetes', 'merge', { spec: { ports } });
  }
  const subsets = [{ addresses: [{ ip: opts.host }], ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }] }];
  const ep = await endpoints.tryGet('default', 'kubernetes');
  if (!ep) {
    await ignoreConflict(endpoints.create({
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets,
    } as KObject));
  } else if (JSON.stringify(ep.subsets) !== JSON.stringify(subsets)) {
    await endpoints.patch('default', 'kubernetes', 'merge', { subsets });
  }
  const slices = client.resource('discovery.k8s.io', 'v1', 'endpointslices');
  const sliceBody = {
    addressType: opts.host.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [opts.host], conditions: { ready: true } }],
    ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }],
  };
  const slice = await slices.tryGet('default', 'kubernetes');
  if (!slice) {
    await ignoreConflict(slices.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } }, ...sliceBody,
    } as KObject));
  } else if (JSON.stringify([slice.endpoints, slice.ports]) !== JSON.stringify([sliceBody.endpoints, sliceBody.ports])) {
    await slices.update({ ...slice, ...sliceBody } as KObject);
  }
}

/** Awaits a create that another server (or an earlier start) may already have made. */
export async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}
