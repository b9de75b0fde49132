// The CNI network of one agent: a conflist for containerd's CRI plugin (bridge +
// host-local IPAM on the node's pod CIDR, then portmap for hostPort). Loopback needs no
// entry: the CRI plugin brings `lo` up in every pod netns itself (go-cni's loopback
// network, using the `loopback` binary from bin_dir).
//
// Names are the agent's own (names.ts): network `skiff-<hash8>` (it shows up in the
// iptables comments the bridge and portmap plugins write, which is how killall finds them),
// bridge `skiff<hash8>`, host-local leases under <agentDir>/cni/networks.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { agentNames } from './names.ts';

export const CNI_VERSION = '1.0.0';
export const CONFLIST_NAME = '10-skiff.conflist';

export interface CniOptions {
  agentDir: string;
  /** IPv4 pod CIDR of this node, e.g. '10.42.0.0/24' */
  podCidr: string;
  /** default <agentDir>/cni/net.d */
  confDir?: string;
  /** bridge MTU (default: the kernel's, 1500) */
  mtu?: number;
}

export function checkCidr(cidr: string): void {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 30 || Number(m[5]) < 8) {
    throw new Error(`pod CIDR must be an IPv4 CIDR between /8 and /30, got ${JSON.stringify(cidr)}`);
  }
}

/** The conflist object. Pure. */
export function renderCniConfList(opts: CniOptions): Record<string, unknown> {
  checkCidr(opts.podCidr);
  const n = agentNames(opts.agentDir);
  return {
    cniVersion: CNI_VERSION,
    name: n.network,
    plugins: [
      {
        type: 'bridge',
        bridge: n.bridge,
        isGateway: true,
        // One node-wide rule instead (masquerade.ts): per-pod iptables work slows every sandbox.
        ipMasq: false,
        hairpinMode: true,
        promiscMode: false,
        ...(opts.mtu ? { mtu: opts.mtu } : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: opts.podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: n.cniDataDir,
        },
      },
      {
        type: 'portmap',
        capabilities: { portMappings: true },
        snat: true,
      },
    ],
  };
}

export function cniConfPath(opts: Pick<CniOptions, 'agentDir' | 'confDir'>): string {
  return path.join(opts.confDir ?? agentNames(opts.agentDir).cniConfDir, CONFLIST_NAME);
}

/**
 * Writes the conflist (atomically) and removes any other file from the conf dir (the CRI
 * plugin loads only the first one, by name). Returns whether the file changed: when the
 * pod CIDR changed, existing pods keep their addresses until they are recreated, and the
 * old host-local leases are dropped (the range is different anyway).
 */
export function writeCniConfig(opts: CniOptions): { path: string; changed: boolean } {
  const file = cniConfPath(opts);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const content = JSON.stringify(renderCniConfList(opts), null, 2) + '\n';
  let old: string | undefined;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  for (const f of readdirSync(dir)) if (f !== CONFLIST_NAME) rmSync(path.join(dir, f), { force: true, recursive: true });
  if (old === content) return { path: file, changed: false };
  if (old !== undefined) {
    const oldCidr = readCidr(old);
    if (oldCidr && oldCidr !== opts.podCidr) {
      const leases = path.join(agentNames(opts.agentDir).cniDataDir, agentNames(opts.agentDir).network);
      if (existsSync(leases)) rmSync(leases, { recursive: true, force: true });
    }
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
  return { path: file, changed: true };
}

function readCidr(conflist: string): string | undefined {
  try {
    const c = JSON.parse(conflist) as { plugins?: { ipam?: { ranges?: { subnet?: string }[][] } }[] };
    return c.plugins?.[0]?.ipam?.ranges?.[0]?.[0]?.subnet;
  } catch {
    return undefined;
  }
}
