// Several "machines" on this one: each host is a network namespace with a veth into a
// Linux bridge in the root namespace (the "switch", 172.31.<n>.1/24, which is also how the
// hosts reach a test server running in the root namespace). Agents run inside a host with
// `nsenter --net`, which changes only the network namespace: the mount namespace stays
// shared, so containerd's pod netns files under /var/run/netns, the agent dir and the
// cgroup tree are the root's, and `skiff killall` run the same way finds everything.
//
// Everything is named from the test's pid (bridge `sks<pid>`, netns `sk<pid>h<k>`) and
// destroy() removes it all, whatever state the test left it in.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Why netns hosts cannot be built here, or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!existsSync('/usr/bin/nsenter')) return '/usr/bin/nsenter is missing (util-linux)';
  if (!existsSync('/sys/module/bridge') && !existsSync('/proc/sys/net/bridge')) return 'no bridge support in the kernel';
  return undefined;
}

export interface NetnsAgent {
  nodeName: string;
  dataDir: string;
  process: ChildProcess;
  output(): string;
  /** Sends the signal to the agent process and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** `skiff killall --data-dir D` inside the host's netns. */
  killall(): Promise<void>;
}

export interface NetnsHost {
  /** netns name (under /var/run/netns) */
  name: string;
  ip: string;
  nsPath: string;
  /** Runs a command inside the host's network namespace (mount namespace shared). */
  exec(cmd: string, args: string[], timeoutMs?: number): Promise<string>;
  /** Starts `skiff agent` inside the host and waits for "node X ready". */
  startAgent(opts: { server: string; token: string; nodeName: string; args?: string[]; timeoutMs?: number }): Promise<NetnsAgent>;
  agents: NetnsAgent[];
}

export interface NetnsLab {
  bridge: string;
  /** 172.31.<n>.1: the hosts' default gateway, and the root namespace's address on the switch */
  gateway: string;
  subnet: string;
  hosts: NetnsHost[];
  addHost(): Promise<NetnsHost>;
  /** Stops agents (killall in their netns), deletes namespaces and the bridge. Never throws. */
  destroy(): Promise<string[]>;
}

function usedThirdOctets(): Set<number> {
  const used = new Set<number>();
  try {
    const text = readFileSync('/proc/net/fib_trie', 'utf8');
    for (const m of text.matchAll(/172\.31\.(\d+)\.\d+/g)) used.add(Number(m[1]));
  } catch {
    /* no procfs view: take our chances */
  }
  return used;
}

export async function createNetnsLab(): Promise<NetnsLab> {
  const id = process.pid % 100_000;
  const used = usedThirdOctets();
  let n = 1 + (process.pid % 250);
  for (let i = 0; i < 250 && used.has(n); i++) n = 1 + (n % 250);
  const bridge = `sks${id}`;
  const gateway = `172.31.${n}.1`;
  const hosts: NetnsHost[] = [];
  let k = 1;
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  const lab: NetnsLab = {
    bridge, gateway, subnet: `172.31.${n}.0/24`, hosts,
    async addHost() {
      const index = ++k;
      const name = `sk${id}h${index}`;
      const ip = `172.31.${n}.${index}`;
      const outside = `skv${id}h${index}`.slice(0, 15);
      const inside = `skp${id}h${index}`.slice(0, 15);
      const nsPath = `/var/run/netns/${name}`;
      const host: NetnsHost = {
        name, ip, nsPath, agents: [],
        exec: (cmd, args, timeoutMs) => run('nsenter', [`--net=${nsPath}`, cmd, ...args], timeoutMs),
        startAgent: (o) => startAgentIn(host, o),
      };
      hosts.push(host); // before it exists: destroy() cleans up a half-built host too
      await run('ip', ['netns', 'add', name]);
      await run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
      await run('ip', ['link', 'set', inside, 'netns', name]);
      await run('ip', ['link', 'set', outside, 'master', bridge, 'up']);
      await run('ip', ['-n', name, 'link', 'set', inside, 'name', 'eth0']);
      await run('ip', ['-n', name, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
      await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', name, 'route', 'add', 'default', 'via', gateway]);
      return host;
    },
    async destroy() {
      const errors: string[] = [];
      const attempt = async (what: string, fn: () => Promise<unknown>) => {
        try { await fn(); } catch (err) { errors.push(`${what}: ${(err as Error).message}`); }
      };
      for (const h of hosts) {
        for (const a of h.agents) {
          await attempt(`stop ${a.nodeName}`, () => a.kill('SIGTERM'));
          await attempt(`killall ${a.nodeName}`, () => a.killall());
          rmSync(a.dataDir, { recursive: true, force: true });
        }
        if (existsSync(h.nsPath)) await attempt(`netns ${h.name}`, () => run('ip', ['netns', 'del', h.name]));
      }
      if (existsSync(`/sys/class/net/${bridge}`)) await attempt(`bridge ${bridge}`, () => run('ip', ['link', 'del', bridge]));
      return errors;
    },
  };
  try {
    await run('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}

async function startAgentIn(host: NetnsHost, o: { server: string; token: string; nodeName: string; args?: string[]; timeoutMs?: number }): Promise<NetnsAgent> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `skiff-${o.nodeName}-`));
  const child = spawn('nsenter', [
    `--net=${host.nsPath}`, process.execPath, path.join(ROOT, 'bin/skiff.js'), 'agent',
    '--server', o.server, '--token', o.token, '--node-ip', host.ip, '--data-dir', dataDir,
    '--node-name', o.nodeName, '--kubelet-port', '10250', ...(o.args ?? []),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const streams = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => { output += d; streams.stdout += d; });
  child.stderr!.on('data', (d) => { output += d; streams.stderr += d; });
  const exited = once(child, 'exit');
  const agent: NetnsAgent = {
    nodeName: o.nodeName, dataDir, process: child, output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    async killall() {
      await run('nsenter', [`--net=${host.nsPath}`, process.execPath, path.join(ROOT, 'bin/skiff.js'), 'killall', '--data-dir', dataDir], 120_000);
    },
  };
  host.agents.push(agent);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent ${o.nodeName} not ready in time:\n${output}`)), o.timeoutMs ?? 90_000);
    const check = () => {
      if (streams.stdout.includes(`node ${o.nodeName} ready`)) { clearTimeout(timer); resolve(); return; }
      // progress lines are "skiff agent: <what> ready in N ms"; any other (complete) line is the error it stopped on
      const failed = [streams.stdout, streams.stderr].flatMap((t) => t.split('\n').slice(0, -1)).find((l) => l.startsWith('skiff agent: ') && !/ ready in \d+ ms$/.test(l));
      if (failed) { clearTimeout(timer); reject(new Error(`agent ${o.nodeName} did not start: ${failed}\n${output}`)); }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`agent ${o.nodeName} exited (${code ?? sig}):\n${output}`)); });
    check();
  });
  return agent;
}
