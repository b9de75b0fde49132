// killall(agentDir): tear down everything one agent's containerd started, leaving the
// machine as it was and other agents untouched. Idempotent; safe when nothing runs.
//
// Order:
//  1. Find what belongs to us while it still exists: network namespaces named in the pause
//     containers' OCI specs (<state>/io.containerd.runtime.v2.task/k8s.io/*/config.json) and
//     behind the veths on our bridge; shim sockets from the bundles' `address` files.
//  2. If our containerd answers, stop and remove every sandbox through the CRI (the clean
//     path: CNI DEL releases IPs, port mappings and NAT rules, netns are removed).
//  3. Stop containerd (pid file, or any containerd whose command line names our config).
//  4. Kill what is left: every containerd-shim-runc-v2 started with `-address <our socket>`
//     and all of its descendants (the container processes), plus any process still in a
//     cgroup under our cgroup parent.
//  5. Unmount everything under the agent dir (deepest first), remove our netns, the bridge,
//     iptables rules whose CNI comment names our network (and the per-pod CNI-* chains
//     they jump to; the shared CNI-HOSTPORT-* chains stay), host-local leases, libcni's
//     cached results, our cgroups, containerd's state dir (it is runtime state, like /run),
//     and the node's network state: the service proxy's and NetworkPolicy's nft tables, the
//     routes to other nodes' pods, the node-local DNS interface.
// Names come from names.ts, so nothing needs to have been recorded (the routes excepted:
// pod-routes.json in the agent dir lists them).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CriClient } from '../cri/client.ts';
import { silentLogger, type Logger } from '../../util/log.ts';
import { agentNames, type AgentNames } from './names.ts';
import { processMatches, runTool, waitForExit } from './process.ts';
import { cleanupServiceProxy } from '../../proxy/index.ts';
import { cleanupNetworkPolicy } from '../../netpol/index.ts';
import { cleanupPodRoutes } from '../network/routes.ts';
import { cleanupNodeLocalDns } from '../../dns/node-local.ts';

export interface KillallReport {
  sandboxesRemoved: number;
  containerdKilled: number[];
  processesKilled: number;
  mountsRemoved: number;
  netnsRemoved: string[];
  bridgeRemoved: boolean;
  iptablesRulesRemoved: number;
  iptablesChainsRemoved: number;
  errors: string[];
}

export interface KillallOptions {
  logger?: Logger;
  /** socket path if it is not the default <agentDir>/containerd/containerd.sock */
  socket?: string;
  /** skip the graceful CRI pass (step 2) */
  force?: boolean;
}

const NETNS_DIRS = ['/var/run/netns', '/run/netns'];

export async function killall(agentDir: string, opts: KillallOptions = {}): Promise<KillallReport> {
  const n = agentNames(agentDir);
  const socket = opts.socket ?? n.socket;
  const log = (opts.logger ?? silentLogger).child('killall');
  const report: KillallReport = {
    sandboxesRemoved: 0, containerdKilled: [], processesKilled: 0, mountsRemoved: 0, netnsRemoved: [],
    bridgeRemoved: false, iptablesRulesRemoved: 0, iptablesChainsRemoved: 0, errors: [],
  };
  const attempt = async (what: string, fn: () => Promise<unknown> | unknown) => {
    try {
      await fn();
    } catch (err) {
      report.errors.push(`${what}: ${(err as Error).message}`);
      log.warn('killall step failed', { step: what, error: (err as Error).message });
    }
  };

  // 1. what is ours
  const netns = new Set<string>();
  const shimSockets = new Set<string>();
  const taskIds = new Set<string>();
  await attempt('scan bundles', () => scanBundles(n, netns, shimSockets, taskIds));
  await attempt('scan bridge', async () => {
    for (const p of await netnsBehindBridge(n.bridge)) netns.add(p);
  });

  // 2. the clean path
  if (!opts.force && existsSync(socket)) {
    await attempt('remove sandboxes via CRI', async () => {
      report.sandboxesRemoved = await removeAllSandboxes(socket);
    });
  }

  // 3. containerd
  await attempt('stop containerd', async () => {
    report.containerdKilled = await stopContainerd(n);
  });

  // 4. shims and containers
  await attempt('kill shims', async () => {
    report.processesKilled += await killShims(socket, n);
  });
  await attempt('kill cgroup processes', async () => {
    report.processesKilled += await killCgroupProcesses(n.cgroupParent);
  });

  // 5. leftovers
  await attempt('unmount', async () => {
    report.mountsRemoved += await unmountUnder(n.agentDir);
  });
  await attempt('netns', async () => {
    for (const p of netns) {
      if (await removeNetns(p)) report.netnsRemoved.push(p);
    }
  });
  await attempt('bridge', async () => {
    report.bridgeRemoved = await deleteLink(n.bridge);
  });
  await attempt('iptables', async () => {
    for (const table of ['nat', 'filter'] as const) {
      const r = await removeIptablesRules(table, n.network);
      report.iptablesRulesRemoved += r.rules;
      report.iptablesChainsRemoved += r.chains;
    }
  });
  await attempt('service proxy table', () => cleanupServiceProxy(n));
  await attempt('network policy table', () => cleanupNetworkPolicy(n));
  await attempt('routes to other nodes', () => cleanupPodRoutes(n, log));
  await attempt('node-local DNS interface', () => cleanupNodeLocalDns(n));
  await attempt('cni state', () => {
    rmSync(path.join(n.cniDataDir, n.network), { recursive: true, force: true });
    const results = '/var/lib/cni/results';
    if (existsSync(results)) {
      // <network>-<sandbox id>-eth0, and the CRI plugin's own loopback: cni-loopback-<sandbox id>-lo
      for (const f of readdirSync(results)) {
        const loopbackOf = /^cni-loopback-([0-9a-f]{64})-lo$/.exec(f)?.[1];
        if (f.startsWith(`${n.network}-`) || (loopbackOf && taskIds.has(loopbackOf))) rmSync(path.join(results, f), { force: true });
      }
    }
  });
  await attempt('shim sockets', () => {
    for (const s of shimSockets) rmSync(s, { force: true });
  });
  await attempt('cgroups', () => removeCgroups(n.cgroupParent));
  await attempt('state dir', async () => {
    report.mountsRemoved += await unmountUnder(n.state);
    rmSync(n.state, { recursive: true, force: true });
    rmSync(n.pidFile, { force: true });
  });
  log.info('killall done', { ...report });
  return report;
}

// ---- 1. discovery ----

function taskDir(n: AgentNames): string {
  return path.join(n.state, 'io.containerd.runtime.v2.task', n.namespace);
}

function scanBundles(n: AgentNames, netns: Set<string>, shimSockets: Set<string>, taskIds: Set<string>): void {
  const dir = taskDir(n);
  if (!existsSync(dir)) return;
  for (const id of readdirSync(dir)) {
    taskIds.add(id);
    try {
      const spec = JSON.parse(readFileSync(path.join(dir, id, 'config.json'), 'utf8')) as { linux?: { namespaces?: { type: string; path?: string }[] } };
      for (const ns of spec.linux?.namespaces ?? []) {
        if (ns.type === 'network' && ns.path && NETNS_DIRS.some((d) => ns.path!.startsWith(d + '/'))) netns.add(ns.path);
      }
    } catch {
      /* no spec */
    }
    try {
      const addr = readFileSync(path.join(dir, id, 'address'), 'utf8').trim().replace(/^unix:\/\//, '');
      if (addr.startsWith('/run/containerd/s/')) shimSockets.add(addr);
    } catch {
      /* no address */
    }
  }
}

/** Network namespaces (paths) on the far side of the veths enslaved to our bridge. */
async function netnsBehindBridge(bridge: string): Promise<string[]> {
  if (!existsSync(`/sys/class/net/${bridge}`)) return [];
  const links = JSON.parse((await runTool('ip', ['-j', 'link', 'show', 'master', bridge])).stdout || '[]') as { link_netnsid?: number }[];
  const ids = new Set(links.map((l) => l.link_netnsid).filter((x): x is number => typeof x === 'number'));
  if (ids.size === 0) return [];
  const list = JSON.parse((await runTool('ip', ['-j', 'netns', 'list'])).stdout || '[]') as { name: string; id?: number }[];
  return list.filter((e) => e.id !== undefined && ids.has(e.id)).map((e) => path.join('/var/run/netns', e.name));
}

// ---- 2. CRI ----

async function removeAllSandboxes(socket: string): Promise<number> {
  const cri = CriClient.connect(socket);
  try {
    let sandboxes;
    try {
      await cri.waitReady(2000);
      sandboxes = await cri.listPodSandbox();
    } catch {
      return 0; // not running: the forceful path does the rest
    }
    // containers first with no grace (StopPodSandbox would do it too, but per container
    // with the default timeout); then sandboxes
    const containers = await cri.listContainers().catch(() => []);
    await Promise.all(containers.map((c) => cri.stopContainer(c.id, 0).catch(() => undefined)));
    await Promise.all(sandboxes.map(async (s) => {
      await cri.stopPodSandbox(s.id);
      await cri.removePodSandbox(s.id);
    }));
    return sandboxes.length;
  } finally {
    cri.close();
  }
}

// ---- 3./4. processes ----

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function ppid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

function kill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function stopContainerd(n: AgentNames): Promise<number[]> {
  const pids = new Set<number>();
  try {
    const pid = Number(readFileSync(n.pidFile, 'utf8').trim());
    if (pid && processMatches(pid, n.configFile)) pids.add(pid);
  } catch {
    /* no pid file */
  }
  for (const pid of allPids()) {
    const argv = cmdline(pid);
    if (argv[0] && path.basename(argv[0]) === 'containerd' && argv.includes(n.configFile)) pids.add(pid);
  }
  for (const pid of pids) kill(pid, 'SIGTERM');
  for (const pid of pids) {
    if (!(await waitForExit(pid, 5000))) {
      kill(pid, 'SIGKILL');
      await waitForExit(pid, 5000);
    }
  }
  return [...pids];
}

/** Shims whose `-address` is our socket, and all their descendants. */
async function killShims(socket: string, n: AgentNames): Promise<number> {
  const pids = allPids();
  const shims = pids.filter((pid) => {
    const argv = cmdline(pid);
    if (!argv[0] || !path.basename(argv[0]).startsWith('containerd-shim')) return false;
    const i = argv.indexOf('-address');
    return i >= 0 && (argv[i + 1] === socket || argv[i + 1] === `unix://${socket}`) && argv.includes(n.namespace);
  });
  if (shims.length === 0) return 0;
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const p = ppid(pid);
    if (!children.has(p)) children.set(p, []);
    children.get(p)!.push(pid);
  }
  const victims: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      victims.push(c);
      walk(c);
    }
  };
  for (const s of shims) walk(s);
  // containers first (so the shims see them exit), then the shims
  for (const pid of victims) kill(pid, 'SIGKILL');
  await Promise.all(victims.map((pid) => waitForExit(pid, 5000)));
  for (const pid of shims) kill(pid, 'SIGKILL');
  await Promise.all(shims.map((pid) => waitForExit(pid, 5000)));
  return victims.length + shims.length;
}

function cgroupDirs(cgroupParent: string): string[] {
  const root = '/sys/fs/cgroup';
  const out: string[] = [];
  const rel = cgroupParent.replace(/^\/+/, '');
  if (!rel) return out;
  if (existsSync(path.join(root, rel))) out.push(path.join(root, rel)); // cgroup v2
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(root);
  } catch {
    return out;
  }
  for (const h of hierarchies) {
    const d = path.join(root, h, rel);
    if (existsSync(d) && statSync(d).isDirectory()) out.push(d);
  }
  return out;
}

function walkDirs(dir: string): string[] {
  const out: string[] = [dir];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) if (e.isDirectory()) out.push(...walkDirs(path.join(dir, e.name)));
  return out;
}

async function killCgroupProcesses(cgroupParent: string): Promise<number> {
  const pids = new Set<number>();
  for (const top of cgroupDirs(cgroupParent)) {
    for (const d of walkDirs(top)) {
      try {
        for (const l of readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l.trim()) pids.add(Number(l));
      } catch {
        /* gone */
      }
    }
  }
  for (const pid of pids) kill(pid, 'SIGKILL');
  await Promise.all([...pids].map((pid) => waitForExit(pid, 5000)));
  return pids.size;
}

function removeCgroups(cgroupParent: string): void {
  for (const top of cgroupDirs(cgroupParent)) {
    for (const d of walkDirs(top).reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* busy or gone */
      }
    }
  }
}

// ---- 5. mounts, netns, links, iptables ----

/** Mount points at or under `dir`, from /proc/self/mountinfo, deepest first. */
export function mountsUnder(dir: string): string[] {
  const root = path.resolve(dir);
  const out: string[] = [];
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const mp = field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === root || mp.startsWith(root + '/')) out.push(mp);
  }
  return [...new Set(out)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

async function unmountUnder(dir: string): Promise<number> {
  let count = 0;
  // stacked mounts show up once per layer: repeat until nothing is left
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const mp of mounts) {
      try {
        await runTool('umount', [mp], 10_000);
        count++;
      } catch {
        try {
          await runTool('umount', ['-l', mp], 10_000);
          count++;
        } catch {
          /* already gone */
        }
      }
    }
  }
  return count;
}

async function removeNetns(p: string): Promise<boolean> {
  if (!existsSync(p)) return false;
  try {
    await runTool('umount', [p], 10_000);
  } catch {
    try {
      await runTool('umount', ['-l', p], 10_000);
    } catch {
      /* not mounted */
    }
  }
  rmSync(p, { force: true });
  return true;
}

async function deleteLink(name: string): Promise<boolean> {
  if (!existsSync(`/sys/class/net/${name}`)) return false;
  await runTool('ip', ['link', 'delete', name]);
  return true;
}

/**
 * Removes the rules whose CNI comment names our network (bridge ipMasq: `name: "NET" id:
 * "ID"`; portmap: `dnat name: "NET" id: "ID"`), and flushes and deletes the per-pod
 * CNI-* chains they jump to or live in (never the shared CNI-HOSTPORT-* chains).
 */
export function planIptablesCleanup(save: string, network: string): { script: string; rules: number; chains: number } {
  const marker = `name: \\"${network}\\"`;
  const existing = new Set<string>();
  const ours: { chain: string; line: string; target?: string }[] = [];
  for (const line of save.split('\n')) {
    if (line.startsWith(':')) existing.add(line.slice(1).split(' ')[0]!);
    if (!line.startsWith('-A ') || !line.includes(marker)) continue;
    const chain = line.split(' ')[1]!;
    const target = / -j (\S+)/.exec(line)?.[1];
    ours.push({ chain, line, target });
  }
  const perPod = (c: string | undefined): c is string => !!c && c.startsWith('CNI-') && !c.startsWith('CNI-HOSTPORT-') && existing.has(c);
  const chains = new Set<string>();
  for (const r of ours) {
    if (perPod(r.target)) chains.add(r.target);
    if (perPod(r.chain)) chains.add(r.chain);
  }
  const lines: string[] = [];
  let rules = 0;
  for (const r of ours) {
    if (chains.has(r.chain)) continue; // goes with its chain
    lines.push('-D ' + r.line.slice(3));
    rules++;
  }
  for (const c of chains) lines.push(`-F ${c}`);
  for (const c of chains) lines.push(`-X ${c}`);
  return { script: lines.length ? lines.join('\n') : '', rules, chains: chains.size };
}

async function removeIptablesRules(table: 'nat' | 'filter', network: string): Promise<{ rules: number; chains: number }> {
  let save: string;
  try {
    save = (await runTool('iptables-save', ['-t', table])).stdout;
  } catch {
    return { rules: 0, chains: 0 };
  }
  const plan = planIptablesCleanup(save, network);
  if (!plan.script) return { rules: 0, chains: 0 };
  await restore(`*${table}\n${plan.script}\nCOMMIT\n`);
  return { rules: plan.rules, chains: plan.chains };
}

function restore(input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('iptables-restore', ['--noflush', '-w', '5'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore: ${err.trim() || `exit ${code}`}`))));
    p.stdin.end(input);
  });
}
