// Docker-link-style variables for Services (pkg/kubelet/envvars FromServices and the
// kubelet's getServiceEnvVarMap): every Service of the pod's namespace that has a cluster
// IP when enableServiceLinks is not false, and always the `kubernetes` Service of
// `default` (the API server's address).
import type { KObject } from '../../api/object.ts';
import type { EnvVar } from './types.ts';

type Json = Record<string, any>;

const MASTER_SERVICES = new Set(['kubernetes']);

const envName = (s: string): string => s.replaceAll('-', '_').toUpperCase();

function isServiceIPSet(svc: KObject): boolean {
  const ip = (svc.spec as Json | undefined)?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None';
}

const joinHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** envvars.FromServices: the variables for each Service, in the order the kubelet builds them. */
export function fromServices(services: KObject[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const spec = svc.spec as Json;
    const ip = spec.clusterIP as string;
    const ports = (spec.ports ?? []) as Json[];
    const prefix = envName(svc.metadata.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    if (ports.length === 0) continue;
    const portVar = `${prefix}_SERVICE_PORT`;
    out.push({ name: portVar, value: String(ports[0]!.port) });
    for (const p of ports) if (p.name) out.push({ name: `${portVar}_${envName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const proto = String(p.protocol || 'TCP');
      const url = `${proto.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push(
        { name: pp, value: url },
        { name: `${pp}_PROTO`, value: proto.toLowerCase() },
        { name: `${pp}_PORT`, value: String(p.port) },
        { name: `${pp}_ADDR`, value: ip },
      );
    });
  }
  return out;
}

/**
 * The service variables for a pod in `ns`, by name. A Service of the pod's own namespace
 * wins over `default/kubernetes` when both are named `kubernetes`.
 */
export async function serviceEnv(ns: string, enableServiceLinks: boolean, listServices: (ns: string) => Promise<KObject[]>): Promise<EnvVar[]> {
  const byName = new Map<string, KObject>();
  const local = enableServiceLinks ? await listServices(ns) : [];
  for (const svc of local) if (isServiceIPSet(svc)) byName.set(svc.metadata.name ?? '', svc);
  const defaults = ns === 'default' && enableServiceLinks ? local : await listServices('default');
  for (const svc of defaults) {
    const name = svc.metadata.name ?? '';
    if (MASTER_SERVICES.has(name) && isServiceIPSet(svc) && !byName.has(name)) byName.set(name, svc);
  }
  const sorted = [...byName.keys()].sort().map((k) => byName.get(k)!);
  return fromServices(sorted);
}
