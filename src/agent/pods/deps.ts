// The pod manager's services, wired to the real pieces: env (src/agent/env), volumes
// (src/agent/volumes), probes and hooks (src/agent/probes), DNS from the host's
// resolv.conf, and the files the kubelet manages per pod (/etc/hosts, termination log).
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
  /** Default /etc/resolv.conf. */
  resolvConf?: string;
}

/**
 * DNS for a pod's sandbox. Cluster DNS is not built yet, so ClusterFirst falls back to the
 * node's resolvers (the kubelet does the same when it has no --cluster-dns); `None` takes
 * the pod's dnsConfig only; dnsConfig is merged in every case.
 */
export function podDns(pod: KObject, host: ResolvConf): ResolvConf {
  const spec = (pod.spec ?? {}) as Json;
  const custom = (spec.dnsConfig ?? {}) as Json;
  const base = spec.dnsPolicy === 'None' ? { servers: [], searches: [], options: [] } : host;
  const options = [...base.options];
  for (const o of (custom.options ?? []) as Json[]) {
    const text = o.value !== undefined ? `${o.name}:${o.value}` : String(o.name);
    const i = options.findIndex((x) => x.split(':')[0] === o.name);
    if (i >= 0) options[i] = text; else options.push(text);
  }
  return {
    servers: [...base.servers, ...((custom.nameservers ?? []) as string[])].slice(0, 3),
    searches: [...new Set([...((custom.searches ?? []) as string[]), ...base.searches])].slice(0, 32),
    options,
  };
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
      const spec = (pod.spec ?? {}) as Json;
      if (spec.hostNetwork && spec.dnsPolicy !== 'ClusterFirstWithHostNet' && spec.dnsPolicy !== 'None') return undefined;
      hostDns ??= parseResolvConf((() => { try { return readFileSync(o.resolvConf ?? '/etc/resolv.conf', 'utf8'); } catch { return ''; } })());
      return podDns(pod, hostDns);
    },
  };
}
