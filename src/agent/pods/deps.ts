// The pod manager's services, wired to the real pieces: env (src/agent/env), volumes
// (src/agent/volumes), probes and hooks (src/agent/probes), pod DNS (cluster DNS or the
// node's resolv.conf, by dnsPolicy), and the files the kubelet manages per pod (/etc/hosts, termination log).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KObject } from '../../api/object.ts';
import type { ApiClient } from '../../client/types.ts';
import type { Logger } from '../../util/log.ts';
import type { CriClient } from '../cri/client.ts';
import type { Mount } from '../cri/types.ts';
import { resolveEnv, type EnvDeps } from '../env/index.ts';
import { runHandler, type ProbedContainer } from '../probes/handlers.ts';
import type { ProbeManager } from '../probes/manager.ts';
import { PodVolumes, writeEtcHosts, type VolumeDeps } from '../volumes/index.ts';
import type { PodDeps } from './manager.ts';
import { parseResolvConf, type ResolvConf } from '../../util/resolv-conf.ts';
import type { ClusterNetworkConfig } from '../network/types.ts';

export { parseResolvConf };
import { ServiceAccountTokenSource, httpTokenRequester } from './sa-tokens.ts';

type Json = Record<string, any>;

export interface PodDepsOptions {
  client: ApiClient;
  cri: CriClient;
  agentDir: string;
  nodeName: string;
  nodeIP: string;
  allocatable: Record<string, string>;
  probes: ProbeManager;
  log: Logger;
  /** The cluster's networks (cluster DNS address and domain for ClusterFirst pods). */
  cluster?: ClusterNetworkConfig;
  /** Default /etc/resolv.conf. */
  resolvConf?: string;
}

/** kubelet's limits (pkg/apis/core/validation: MaxDNSNameservers, MaxDNSSearchPaths/ListChars expanded). */
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_CHARS = 2048;

/**
 * DNS for a pod's sandbox, with the kubelet's rules (pkg/kubelet/network/dns GetPodDNS):
 * - ClusterFirst (the default), and ClusterFirstWithHostNet: the cluster DNS as the only
 *   nameserver, search `<ns>.svc.<domain> svc.<domain> <domain>` then the node's search
 *   domains, options `ndots:5` (the node's options are not kept);
 * - ClusterFirst on a hostNetwork pod, and Default: the node's resolv.conf;
 * - None: nothing but the pod's dnsConfig.
 * Then dnsConfig is appended: nameservers and searches after the policy's (duplicates
 * dropped), options merged by name with the pod's winning. Finally the kubelet's caps: 3
 * nameservers; 32 search domains, none longer than 253, the line at most 2048 chars.
 * Without a cluster config ClusterFirst falls back to the node's resolv.conf, as the
 * kubelet does without --cluster-dns.
 */
export function podDns(pod: KObject, host: ResolvConf, cluster?: Pick<ClusterNetworkConfig, 'clusterDns' | 'clusterDomain'>): ResolvConf {
  const spec = (pod.spec ?? {}) as Json;
  const policy = String(spec.dnsPolicy ?? 'ClusterFirst');
  const hostSearch = host.searches.map((d) => d.replace(/\.$/, '')).filter((d) => d && d !== '.');
  let base: ResolvConf;
  if (policy === 'None') {
    base = { servers: [], searches: [], options: [] };
  } else if (cluster?.clusterDns && (policy === 'ClusterFirstWithHostNet' || (policy !== 'Default' && !spec.hostNetwork))) {
    const ns = pod.metadata.namespace || 'default';
    const domain = cluster.clusterDomain;
    base = {
      servers: [cluster.clusterDns],
      searches: domain ? unique([`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...hostSearch]) : hostSearch,
      options: ['ndots:5'],
    };
  } else {
    base = { servers: [...host.servers], searches: hostSearch, options: [...host.options] };
  }
  const custom = (spec.dnsConfig ?? {}) as Json;
  const options = [...base.options];
  for (const o of (custom.options ?? []) as Json[]) {
    const text = o.value !== undefined && o.value !== null && o.value !== '' ? `${o.name}:${o.value}` : String(o.name);
    const i = options.findIndex((x) => x.split(':')[0] === o.name);
    if (i >= 0) options[i] = text; else options.push(text);
  }
  return {
    servers: unique([...base.servers, ...((custom.nameservers ?? []) as string[])]).slice(0, MAX_DNS_NAMESERVERS),
    searches: fitSearches(unique([...base.searches, ...((custom.searches ?? []) as string[])])),
    options,
  };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The kubelet's search line limits: count first, then over-long names, then total length from the end. */
function fitSearches(searches: string[]): string[] {
  let out = searches.slice(0, MAX_DNS_SEARCH_PATHS).filter((d) => d.length <= 253);
  while (out.length && out.join(' ').length > MAX_DNS_SEARCH_CHARS) out = out.slice(0, -1);
  return out;
}

export function podDeps(o: PodDepsOptions): PodDeps {
  const configMaps = o.client.resource('', 'v1', 'configmaps');
  const secrets = o.client.resource('', 'v1', 'secrets');
  const services = o.client.resource('', 'v1', 'services');
  const objects = { getConfigMap: (ns: string, name: string) => configMaps.tryGet(ns, name), getSecret: (ns: string, name: string) => secrets.tryGet(ns, name) };
  const volumes = new PodVolumes(o.agentDir);
  // Projected service-account tokens: TokenRequest bound to the pod, cached and refreshed at 80% of their lifetime.
  const requester = httpTokenRequester(o.client);
  const saTokens = requester && new ServiceAccountTokenSource({ request: requester });
  const volumeDeps: VolumeDeps = {
    ...objects, nodeName: o.nodeName, nodeAllocatable: o.allocatable,
    ...(saTokens ? { serviceAccountToken: (audience, seconds, pod) => saTokens.token(audience, seconds, pod) } : {}),
  };
  let hostDns: ResolvConf | undefined;
  const execSync = (containerId: string) => async (cmd: string[], timeoutSeconds: number) => o.cri.execSync(containerId, cmd, timeoutSeconds);

  return {
    setUpVolumes: (pod) => volumes.setUp(pod, volumeDeps),
    updateVolumes: async (pod) => { await volumes.update(pod, volumeDeps); },
    tearDownVolumes: async ({ uid }) => { await volumes.tearDown(uid); saTokens?.forgetPod(uid); },
    async containerMounts(pod, container, vols, podIP, env) {
      const podDir = volumes.podDir(pod.metadata.uid!);
      const mounts: Mount[] = await volumes.containerMounts(container, vols, { env });
      const paths = new Set(mounts.map((m) => m.containerPath));
      // The kubelet-managed /etc/hosts (not for hostNetwork pods: they see the node's).
      if (!(pod.spec as Json).hostNetwork && !paths.has('/etc/hosts')) {
        mkdirSync(podDir, { recursive: true });
        const hostsFile = await writeEtcHosts(podDir, pod, podIP);
        mounts.push({ containerPath: '/etc/hosts', hostPath: hostsFile, readonly: false });
      }
      // The termination log: the container writes why it ended; we mount a file of our own.
      const tmp = String(container.terminationMessagePath ?? '/dev/termination-log');
      if (!paths.has(tmp)) {
        const dir = path.join(podDir, 'containers', String(container.name));
        mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `termination-${Date.now().toString(36)}`);
        writeFileSync(file, '', { mode: 0o666 });
        mounts.push({ containerPath: tmp, hostPath: file, readonly: false });
      }
      return mounts;
    },
    async resolveEnv(pod, container, podIPs) {
      const deps: EnvDeps = {
        ...objects,
        listServices: async (ns) => (await services.list(ns)).items,
        nodeAllocatable: o.allocatable,
        podIP: podIPs[0], podIPs, hostIP: o.nodeIP, hostIPs: [o.nodeIP],
      };
      return resolveEnv(pod, container, deps);
    },
    async runHook(pod, container, containerId, handler, podIP, timeoutSeconds) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), timeoutSeconds * 1000);
      try {
        const r = await runHandler(handler, { podIP, container, execSync: execSync(containerId), purpose: 'lifecycle', signal: ac.signal });
        return r.ok ? undefined : r.message;
      } finally {
        clearTimeout(timer);
      }
    },
    probes: {
      addContainer: (pod, container, containerId, podIP, startedAt) =>
        o.probes.addContainer(pod.metadata.uid!, container as ProbedContainer, { podIP, execSync: execSync(containerId) }, startedAt),
      removeContainer: (uid, name) => o.probes.removeContainer(uid, name),
      removePod: (uid) => o.probes.removePod(uid),
      ready: (uid, name) => o.probes.readiness(uid, name),
      started: (uid, name) => o.probes.startupDone(uid, name),
    },
    dns(pod) {
      hostDns ??= parseResolvConf((() => { try { return readFileSync(o.resolvConf ?? '/etc/resolv.conf', 'utf8'); } catch { return ''; } })());
      const conf = podDns(pod, hostDns, o.cluster);
      // Nothing to write (None without dnsConfig can't pass validation; an empty node
      // resolv.conf can): the runtime then copies the node's file.
      return conf.servers.length || conf.searches.length || conf.options.length ? conf : undefined;
    },
  };
}
