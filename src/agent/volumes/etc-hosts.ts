// The kubelet-managed /etc/hosts of a pod (kubelet_pods.go managedHostsFileContent and
// nodeHostsFileContent), written to <podDir>/etc-hosts for the agent to bind-mount.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KObject } from '../../api/object.ts';

type Json = Record<string, any>;

export interface EtcHostsOptions {
  clusterDomain?: string;
  /** The node's hosts file, copied for hostNetwork pods. */
  nodeHostsFile?: string;
}

/** GeneratePodHostNameAndDomain: hostname (≤ 63 chars) and `<subdomain>.<ns>.svc.<domain>`. */
export function podHostnameAndDomain(pod: KObject, clusterDomain = 'cluster.local'): { hostname: string; domain: string } {
  const spec = (pod.spec ?? {}) as Json;
  let hostname = String(spec.hostname || pod.metadata.name || '');
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const domain = spec.subdomain ? `${spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

function hostAliasLines(aliases: Json[] | undefined): string {
  if (!aliases || aliases.length === 0) return '';
  let s = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) s += `${a.ip}\t${((a.hostnames ?? []) as string[]).join('\t')}\n`;
  return s;
}

export async function etcHostsContent(pod: KObject, podIPs: string[], opts: EtcHostsOptions = {}): Promise<string> {
  const spec = (pod.spec ?? {}) as Json;
  if (spec.hostNetwork === true) {
    const node = await readFile(opts.nodeHostsFile ?? '/etc/hosts', 'utf8');
    return '# Kubernetes-managed hosts file (host network).\n' + node + hostAliasLines(spec.hostAliases);
  }
  const { hostname, domain } = podHostnameAndDomain(pod, opts.clusterDomain);
  let s = '# Kubernetes-managed hosts file.\n';
  s += '127.0.0.1\tlocalhost\n';
  s += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  s += 'fe00::0\tip6-localnet\n';
  s += 'fe00::0\tip6-mcastprefix\n';
  s += 'fe00::1\tip6-allnodes\n';
  s += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) s += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return s + hostAliasLines(spec.hostAliases);
}

/** Writes `<podDir>/etc-hosts` (0644) and returns its path. */
export async function writeEtcHosts(podDir: string, pod: KObject, podIP: string | string[], opts: EtcHostsOptions = {}): Promise<string> {
  const ips = (Array.isArray(podIP) ? podIP : [podIP]).filter((ip) => ip);
  const path = join(podDir, 'etc-hosts');
  await writeFile(path, await etcHostsContent(pod, ips, opts), { mode: 0o644 });
  await chmod(path, 0o644);
  return path;
}
