// Routes to the other nodes' pods, the way flannel's host-gw backend does it: for every
// other Node with a spec.podCIDR and an InternalIP on a subnet this machine is directly
// connected to, `ip route replace <podCIDR> via <InternalIP>`. No tunnel, no encapsulation:
// the nodes must share an L2 segment. Nodes we cannot reach directly (another subnet, or
// `skiff sim`'s made-up 172.30.x.x addresses) get no route and one warning.
//
// Our routes carry `proto 157` (ROUTE_PROTO) and lie inside the cluster CIDR; each sync
// reads them back from the kernel, so a restarted agent fixes what changed while it was
// down. The set we installed is also written to <agentDir>/network/pod-routes.json, which
// is how `skiff killall` (cleanupPodRoutes) removes exactly ours without the cluster's
// settings. Syncs are serialised and coalesced: events only mark the state dirty.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { KObject } from '../../api/object.ts';
import type { AgentNames } from '../containerd/names.ts';
import { runTool, runToolWithInput } from '../containerd/process.ts';
import { parseCidr, parseIPv4 } from '../sim/cidr.ts';
import type { Logger } from '../../util/log.ts';
import type { NodeNetworkComponent, NodeNetworkContext } from './types.ts';

/** The route protocol number our routes carry (not in iproute2's rt_protos list). */
export const ROUTE_PROTO = 157;
const RESYNC_MS = 30_000;
const COALESCE_MS = 100;

export interface PodRoute {
  /** a node's pod CIDR */
  dst: string;
  /** that node's InternalIP */
  via: string;
}

/** What this machine is directly connected to: its addresses and their subnets (not lo, not pod bridges). */
export interface LocalNetwork {
  addresses: string[];
  subnets: string[];
}

export interface RoutePlan {
  routes: PodRoute[];
  /** nodes with a pod CIDR that get no route, and why */
  skipped: { node: string; ip?: string; reason: string }[];
}

function inCidr(ip: string, cidr: string): boolean {
  try {
    const c = parseCidr(cidr);
    const n = parseIPv4(ip);
    return n >= c.base && n < c.base + c.size;
  } catch {
    return false;
  }
}

/** Whether CIDR `inner` lies entirely inside `outer`. */
export function cidrWithin(inner: string, outer: string): boolean {
  try {
    const i = parseCidr(inner);
    const o = parseCidr(outer);
    return i.bits >= o.bits && i.base >= o.base && i.base + i.size <= o.base + o.size;
  } catch {
    return false;
  }
}

function internalIP(node: KObject): string | undefined {
  const addrs = ((node.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses) ?? [];
  return addrs.find((a) => a.type === 'InternalIP' && /^\d+\.\d+\.\d+\.\d+$/.test(a.address))?.address;
}

function podCidrOf(node: KObject): string | undefined {
  return (node.spec as { podCIDR?: string } | undefined)?.podCIDR || undefined;
}

/** The routes this node should have to the others' pods. Pure. */
export function planRoutes(nodes: KObject[], self: { nodeName: string; podCidr: string; clusterCidr: string }, local: LocalNetwork): RoutePlan {
  const routes: PodRoute[] = [];
  const skipped: RoutePlan['skipped'] = [];
  const taken = new Set<string>();
  for (const node of [...nodes].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    const name = node.metadata.name ?? '';
    const dst = podCidrOf(node);
    if (name === self.nodeName || !dst) continue;
    const ip = internalIP(node);
    const skip = (reason: string) => skipped.push({ node: name, ip, reason });
    if (dst === self.podCidr) skip('its pod CIDR is ours');
    else if (!cidrWithin(dst, self.clusterCidr)) skip(`its pod CIDR ${dst} is outside the cluster CIDR ${self.clusterCidr}`);
    else if (taken.has(dst)) skip(`its pod CIDR ${dst} is routed to another node already`);
    else if (!ip) skip('it has no IPv4 InternalIP');
    else if (local.addresses.includes(ip)) skip(`its InternalIP ${ip} is an address of this machine`);
    else if (!local.subnets.some((s) => inCidr(ip, s))) skip(`its InternalIP ${ip} is not on a subnet this machine is connected to (host-gw routes need one L2 segment)`);
    else {
      routes.push({ dst, via: ip });
      taken.add(dst);
    }
  }
  return { routes, skipped };
}

/** `ip -batch` lines that take the kernel from `current` (our routes) to `desired`. Pure. */
export function routeCommands(current: PodRoute[], desired: PodRoute[]): string[] {
  const want = new Map(desired.map((r) => [r.dst, r.via]));
  const have = new Map(current.map((r) => [r.dst, r.via]));
  const lines: string[] = [];
  for (const r of current) {
    if (want.get(r.dst) !== r.via) lines.push(`route del ${r.dst} via ${r.via} proto ${ROUTE_PROTO}`);
  }
  for (const r of desired) {
    if (have.get(r.dst) !== r.via) lines.push(`route replace ${r.dst} via ${r.via} proto ${ROUTE_PROTO}`);
  }
  return lines;
}

function networkOf(ip: string, prefix: number): string {
  const size = 2 ** (32 - prefix);
  const n = parseIPv4(ip);
  const base = n - (n % size);
  return `${[base >>> 24, (base >>> 16) & 255, (base >>> 8) & 255, base & 255].join('.')}/${prefix}`;
}

/** This netns's IPv4 addresses and connected subnets, without lo and anything inside the cluster CIDR (pod bridges). */
export async function readLocalNetwork(clusterCidr: string): Promise<LocalNetwork> {
  const links = JSON.parse((await runTool('ip', ['-j', '-4', 'addr', 'show'])).stdout || '[]') as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[];
  const addresses: string[] = [];
  const subnets: string[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      addresses.push(a.local);
      if (l.ifname === 'lo' || a.prefixlen >= 32) continue;
      const net = networkOf(a.local, a.prefixlen);
      if (!cidrWithin(net, clusterCidr)) subnets.push(net);
    }
  }
  return { addresses, subnets };
}

/** Our routes in this netns's main table (proto ROUTE_PROTO) inside `clusterCidr`. */
export async function readOurRoutes(clusterCidr: string): Promise<PodRoute[]> {
  const out = JSON.parse((await runTool('ip', ['-j', '-4', 'route', 'show', 'table', 'main', 'proto', String(ROUTE_PROTO)])).stdout || '[]') as { dst: string; gateway?: string }[];
  return out
    .filter((r) => r.gateway && cidrWithin(r.dst, clusterCidr))
    .map((r) => ({ dst: r.dst, via: r.gateway! }));
}

async function applyBatch(lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  // -force: one failed line (a route someone removed already) does not stop the rest
  await runToolWithInput('ip', ['-4', '-force', '-batch', '-'], Readable.from([lines.join('\n') + '\n']));
}

function recordFile(agentDir: string): string {
  return path.join(agentDir, 'network', 'pod-routes.json');
}

function writeRecord(agentDir: string, routes: PodRoute[]): void {
  const file = recordFile(agentDir);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file + '.tmp', JSON.stringify(routes) + '\n');
  renameSync(file + '.tmp', file); // atomic: killall never reads half a file
}

function readRecord(agentDir: string): PodRoute[] {
  try {
    const v = JSON.parse(readFileSync(recordFile(agentDir), 'utf8')) as PodRoute[];
    return Array.isArray(v) ? v.filter((r) => typeof r?.dst === 'string' && typeof r?.via === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Makes our routes inside `clusterCidr` (in the current netns) exactly `desired`, and
 * records them under the agent dir for cleanupPodRoutes. Returns the commands it ran.
 */
export async function applyRoutes(agentDir: string, clusterCidr: string, desired: PodRoute[]): Promise<string[]> {
  const current = await readOurRoutes(clusterCidr);
  const lines = routeCommands(current, desired);
  if (lines.length === 0) {
    writeRecord(agentDir, current);
    return lines;
  }
  // record first what we are about to add, so killall finds it even if we die halfway
  writeRecord(agentDir, mergeRoutes(current, desired));
  await applyBatch(lines);
  writeRecord(agentDir, await readOurRoutes(clusterCidr));
  return lines;
}

/** For `skiff killall`: removes the pod routes this agent installed (in the current netns). */
export async function cleanupPodRoutes(names: Pick<AgentNames, 'agentDir'>, log?: Logger): Promise<number> {
  const recorded = readRecord(names.agentDir);
  let removed = 0;
  for (const r of recorded) {
    try {
      await runTool('ip', ['-4', 'route', 'del', r.dst, 'via', r.via, 'proto', String(ROUTE_PROTO)]);
      removed++;
    } catch (err) {
      log?.info('pod route already gone', { dst: r.dst, via: r.via, error: (err as Error).message });
    }
  }
  rmSync(recordFile(names.agentDir), { force: true });
  return removed;
}

export async function startPodRoutes(ctx: NodeNetworkContext): Promise<NodeNetworkComponent> {
  const { log } = ctx;
  const nodes = ctx.informers.informer('', 'v1', 'nodes');
  const warned = new Set<string>();
  let synced = false;
  let stopped = false;
  let running = false;
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;

  const syncOnce = async () => {
    const local = await readLocalNetwork(ctx.cluster.clusterCidr);
    const plan = planRoutes(nodes.list(), { nodeName: ctx.nodeName, podCidr: ctx.podCidr, clusterCidr: ctx.cluster.clusterCidr }, local);
    // once per node and reason, in one line per sync (skiff sim adds thousands of nodes at once)
    const keys = new Set(plan.skipped.map((s) => `${s.node}|${s.reason}`));
    for (const k of warned) if (!keys.has(k)) warned.delete(k); // forget deleted and fixed nodes
    const fresh = plan.skipped.filter((s) => {
      const key = `${s.node}|${s.reason}`;
      if (warned.has(key)) return false;
      warned.add(key);
      return true;
    });
    if (fresh.length) log.warn('no route to some nodes\' pods', { count: fresh.length, nodes: fresh.slice(0, 10).map((s) => `${s.node}: ${s.reason}`) });
    const lines = await applyRoutes(ctx.agentDir, ctx.cluster.clusterCidr, plan.routes);
    if (lines.length) log.info('pod routes synced', { changes: lines });
  };

  const loop = async () => {
    running = true;
    try {
      while (dirty && !stopped) {
        dirty = false;
        try {
          await syncOnce();
        } catch (err) {
          log.warn('pod routes not synced; retrying', { error: (err as Error).message });
          schedule(5_000);
          break;
        }
      }
    } finally {
      running = false;
    }
  };
  const kick = () => {
    if (!synced || stopped) return;
    dirty = true;
    if (!running) void loop();
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => { kick(); schedule(RESYNC_MS); }, ms);
    timer.unref?.();
  };
  let coalesce: NodeJS.Timeout | undefined;
  const changed = () => {
    if (coalesce || !synced) return;
    coalesce = setTimeout(() => { coalesce = undefined; kick(); }, COALESCE_MS);
    coalesce.unref?.();
  };

  const routeFacts = (n: KObject) => `${podCidrOf(n) ?? ''}|${internalIP(n) ?? ''}`;
  const unsubscribe = nodes.addEventHandler({
    onAdd: changed,
    onUpdate: (a, b) => { if (routeFacts(a) !== routeFacts(b)) changed(); },
    onDelete: changed,
  });
  // never sync from a partial list: that would delete routes to nodes not listed yet
  void nodes.waitForSync().then(() => {
    synced = true;
    kick();
    schedule(RESYNC_MS);
  }, () => {});

  return {
    stop() {
      stopped = true;
      unsubscribe();
      clearTimeout(timer);
      clearTimeout(coalesce);
    },
  };
}

function mergeRoutes(a: PodRoute[], b: PodRoute[]): PodRoute[] {
  const seen = new Set<string>();
  const out: PodRoute[] = [];
  for (const r of [...a, ...b]) {
    const k = `${r.dst} ${r.via}`;
    if (!seen.has(k)) { seen.add(k); out.push(r); }
  }
  return out;
}
