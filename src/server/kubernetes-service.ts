// The `kubernetes` Service in `default`, as kube-apiserver keeps it: the first address of
// the service CIDR, port 443 (https). Its Endpoints and EndpointSlices (what service
// proxies read) list every live API server: apiserver-endpoints.ts keeps them.
import type { InProcessClient } from '../client/inprocess.ts';
import type { KObject } from '../api/object.ts';
import { kubernetesServiceIP, type ServiceRange } from '../apiserver/registry/service-ips.ts';

export async function ensureKubernetesService(client: InProcessClient, opts: { range: ServiceRange; host: string; port: number }): Promise<void> {
  const services = client.resource('', 'v1', 'services');
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
    // targetPort follows the server that started last; proxies route by the EndpointSlices.
    await services.patch('default', 'kubernetes', 'merge', { spec: { ports } });
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
