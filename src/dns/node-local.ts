// Cluster DNS on every node, the way Kubernetes' NodeLocal DNSCache does it: the cluster
// DNS address is put on a dummy interface this agent owns (an empty bridge where the
// kernel has no dummy driver), so it is a local address of
// the node, and the DNS server (server.ts) listens on it, port 53, UDP and TCP. Pods send
// their queries to their default gateway (the node's bridge), the node sees a local
// address and delivers them to us; the service proxy leaves the kube-dns ClusterIP alone.
// Answers come from the agent's shared informers, which keep their caches while the API
// server is away, so names keep resolving through a server restart.
//
// stop() closes the sockets and leaves the interface (stopping the agent leaves pods
// running); cleanupNodeLocalDns(names) removes the interface, for `skiff killall`.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { NodeNetworkComponent, NodeNetworkContext } from '../agent/network/types.ts';
import type { AgentNames } from '../agent/containerd/names.ts';
import { runTool } from '../agent/containerd/process.ts';
import { parseResolvConf } from '../util/resolv-conf.ts';
import { parseUpstream, startDnsServer, type DnsServer } from './server.ts';

/** How often a node-local DNS that could not bind port 53 tries again. */
const RETRY_BIND_MS = 5_000;

/** The dummy interface carrying the cluster DNS address: `skdns` + the agent hash (13 chars). */
export function dnsInterfaceName(names: Pick<AgentNames, 'hash'>): string {
  return `skdns${names.hash}`;
}

/**
 * The node's resolvers as upstreams, minus the cluster DNS address itself (a host whose
 * resolv.conf points at cluster DNS would otherwise send unknown names round in a loop).
 */
export function nodeUpstreams(resolvConf: string, clusterDns: string): string[] {
  return parseResolvConf(resolvConf).servers.filter((s) => parseUpstream(s).host !== clusterDns);
}

export async function startNodeLocalDns(ctx: NodeNetworkContext): Promise<NodeNetworkComponent> {
  const { clusterDns, clusterDomain } = ctx.cluster;
  const log = ctx.log;
  // Asked for now; the agent starts the factory once every component has asked.
  const services = ctx.informers.informer('', 'v1', 'services');
  const endpointSlices = ctx.informers.informer('discovery.k8s.io', 'v1', 'endpointslices');
  const namespaces = ctx.informers.informer('', 'v1', 'namespaces');

  const ifname = dnsInterfaceName(ctx.names);
  await ensureDnsInterface(ifname, clusterDns);

  let resolvConf = '';
  try { resolvConf = readFileSync('/etc/resolv.conf', 'utf8'); } catch { /* no upstreams: SERVFAIL for other names */ }
  const upstreams = nodeUpstreams(resolvConf, clusterDns);

  let server: DnsServer | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const listen = async (): Promise<void> => {
    try {
      const s = await startDnsServer({
        host: clusterDns, port: 53, services, endpointSlices, namespaces, upstreams,
        domain: clusterDomain, log,
        ready: () => services.hasSynced() && endpointSlices.hasSynced(),
      });
      if (stopped) { await s.close(); return; }
      server = s;
      log.info('cluster DNS serving on this node', { address: clusterDns, interface: ifname, domain: clusterDomain });
    } catch (err) {
      // Another agent in this network namespace serving the same cluster has the port;
      // keep trying, so this node answers once that one is gone.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      log.warn('cluster DNS port is taken on this node; retrying', { address: `${clusterDns}:53` });
      if (!stopped) retry = setTimeout(() => { listen().catch((e) => log.error('cluster DNS not started', { error: String(e) })); }, RETRY_BIND_MS);
    }
  };
  await listen();

  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await server?.close();
      server = undefined;
    },
  };
}

/** Creates (or adopts) the interface with exactly the cluster DNS address on it, up. */
export async function ensureDnsInterface(ifname: string, address: string): Promise<void> {
  const prefix = `${address}/${net.isIPv6(address) ? 128 : 32}`;
  const exists = await runTool('ip', ['link', 'show', 'dev', ifname]).then(() => true, () => false);
  if (!exists) {
    const add = (type: string) => runTool('ip', ['link', 'add', ifname, 'type', type]).then(() => {}, (err: Error) => {
      if (!/File exists/.test(err.message)) throw err;
    });
    // Kernels built without CONFIG_DUMMY: a bridge with no ports does the same job (its
    // addresses are local; nothing is ever forwarded through it).
    await add('dummy').catch((err: Error) => {
      if (!/Unknown device type|not supported/i.test(err.message)) throw err;
      return add('bridge');
    });
  }
  // An address left from an earlier --cluster-dns goes.
  const { stdout } = await runTool('ip', ['-j', 'addr', 'show', 'dev', ifname]);
  const current = (JSON.parse(stdout || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[])
    .flatMap((l) => l.addr_info ?? []);
  for (const a of current) {
    if (a.local !== address && !a.local.startsWith('fe80:')) await runTool('ip', ['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', ifname]).catch(() => {});
  }
  if (!current.some((a) => a.local === address)) await runTool('ip', ['addr', 'add', prefix, 'dev', ifname, ...(net.isIPv6(address) ? ['nodad'] : [])]);
  await runTool('ip', ['link', 'set', ifname, 'up']);
}

/** Removes the agent's DNS interface (and with it the address); true if there was one. */
export async function cleanupNodeLocalDns(names: Pick<AgentNames, 'hash'>): Promise<boolean> {
  const ifname = dnsInterfaceName(names);
  return runTool('ip', ['link', 'del', 'dev', ifname]).then(() => true, (err: Error) => {
    if (/Cannot find device|does not exist/.test(err.message)) return false;
    throw err;
  });
}
