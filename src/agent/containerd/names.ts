// Every name and path one agent's containerd uses, derived from its agent dir, so several
// agents on one machine never collide and `killall` can find exactly what belongs to one
// agent without a record (the names are a pure function of the directory).
import { createHash } from 'node:crypto';
import path from 'node:path';

export interface AgentNames {
  /** absolute agent dir (e.g. <data-dir>/agent) */
  agentDir: string;
  /** 8 hex chars of sha256(agentDir): the agent's identity on this machine */
  hash: string;
  /** <agentDir>/containerd */
  containerdDir: string;
  configFile: string;
  /** containerd's gRPC socket (CRI + containerd API); ttrpc listens on `${socket}.ttrpc` */
  socket: string;
  root: string;
  state: string;
  logFile: string;
  /** our own pid file for the containerd child (containerd writes none) */
  pidFile: string;
  /** runc --root for the runc v2 shims (default would be the shared /run/containerd/runc/<ns>) */
  runcRoot: string;
  /** certs.d for registry hosts.toml files */
  certsDir: string;
  /** dir for containerd's "opt" plugin (default /opt/containerd, shared) */
  optDir: string;
  /** CNI conf dir holding our one conflist */
  cniConfDir: string;
  /** host-local IPAM dataDir (default /var/lib/cni/networks, shared) */
  cniDataDir: string;
  /** CNI network name: appears in iptables comments ('name: "skiff-1a2b3c4d"') */
  network: string;
  /** Linux bridge, ≤ 15 chars */
  bridge: string;
  /**
   * cgroup parent (cgroupfs path, every v1 hierarchy) the agent should give sandboxes
   * (PodSandboxConfig.linux.cgroupParent = `${cgroupParent}/pod<uid>`), so killall can
   * remove what is left under it.
   */
  cgroupParent: string;
  /** containerd namespace the CRI plugin uses */
  namespace: 'k8s.io';
}

export function agentNames(agentDir: string): AgentNames {
  const dir = path.resolve(agentDir);
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 8);
  const containerdDir = path.join(dir, 'containerd');
  const state = path.join(containerdDir, 'state');
  return {
    agentDir: dir,
    hash,
    containerdDir,
    configFile: path.join(containerdDir, 'config.toml'),
    socket: path.join(containerdDir, 'containerd.sock'),
    root: path.join(containerdDir, 'root'),
    state,
    logFile: path.join(containerdDir, 'containerd.log'),
    pidFile: path.join(containerdDir, 'containerd.pid'),
    runcRoot: path.join(state, 'runc'),
    certsDir: path.join(containerdDir, 'certs.d'),
    optDir: path.join(containerdDir, 'opt'),
    cniConfDir: path.join(dir, 'cni', 'net.d'),
    cniDataDir: path.join(dir, 'cni', 'networks'),
    network: `skiff-${hash}`,
    bridge: `skiff${hash}`, // 13 chars
    cgroupParent: `/skiff-${hash}`,
    namespace: 'k8s.io',
  };
}
