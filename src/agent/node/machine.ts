// What this machine is, read from the kernel: capacity, addresses, node info, and the
// pressure signals the kubelet turns into node conditions. Reads only; no API calls.
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';

export interface MachineFacts {
  cpus: number;
  memoryBytes: number;
  /** Total and free bytes of the filesystem holding the agent's data dir. */
  diskBytes: number;
  machineID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
}

const readText = (path: string): string | undefined => {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
};

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function architecture(): string {
  return goArch[process.arch] ?? process.arch;
}

export function readMachine(dataDir: string): MachineFacts {
  const fs = statfsSync(dataDir);
  const osRelease = readText('/etc/os-release') ?? '';
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1];
  return {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
    diskBytes: fs.blocks * fs.bsize,
    machineID: readText('/etc/machine-id') ?? '',
    bootID: readText('/proc/sys/kernel/random/boot_id') ?? '',
    kernelVersion: os.release(),
    osImage: pretty ?? `${os.type()} ${os.release()}`,
    architecture: architecture(),
  };
}

/** Interfaces that are ours or other runtimes' (bridges, veths), never a node address. */
const VIRTUAL = /^(lo|veth|cni|skiff|flannel|docker|br-|virbr|kube|tun|tap)/;

/** The node's InternalIP: the flag, else the first global IPv4 address of a physical-looking interface. */
export function pickNodeIP(explicit?: string): string {
  if (explicit) return explicit;
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (VIRTUAL.test(name)) continue;
    const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return '127.0.0.1';
}

export interface PressureSignals {
  memoryAvailableBytes: number;
  diskAvailableBytes: number;
  diskTotalBytes: number;
  processes: number;
  pidMax: number;
}

export function readPressure(dataDir: string): PressureSignals {
  const meminfo = readText('/proc/meminfo') ?? '';
  const availKb = Number(/^MemAvailable:\s+(\d+)/m.exec(meminfo)?.[1] ?? NaN);
  const fs = statfsSync(dataDir);
  const loadavg = readText('/proc/loadavg') ?? '';
  return {
    memoryAvailableBytes: Number.isFinite(availKb) ? availKb * 1024 : os.freemem(),
    diskAvailableBytes: fs.bavail * fs.bsize,
    diskTotalBytes: fs.blocks * fs.bsize,
    processes: Number(/\d+\/(\d+)/.exec(loadavg)?.[1] ?? 0),
    pidMax: Number(readText('/proc/sys/kernel/pid_max') ?? 4194304),
  };
}

/** The kubelet's default hard eviction thresholds, which are also what allocatable keeps back. */
export const EVICTION = {
  memoryAvailableBytes: 100 * 1024 * 1024,
  diskAvailableFraction: 0.10,
  pidAvailableFraction: 0.10,
};

export interface Pressure { memory: boolean; disk: boolean; pid: boolean }

export function pressureOf(s: PressureSignals): Pressure {
  return {
    memory: s.memoryAvailableBytes < EVICTION.memoryAvailableBytes,
    disk: s.diskTotalBytes > 0 && s.diskAvailableBytes < s.diskTotalBytes * EVICTION.diskAvailableFraction,
    pid: s.pidMax > 0 && s.pidMax - s.processes < s.pidMax * EVICTION.pidAvailableFraction,
  };
}
