// `skiff kubectl ...`: the system kubectl with this cluster's kubeconfig. kubectl takes
// one server per cluster; when the kubeconfig lists several (the `skiff.io/servers`
// cluster extension, see src/client/kubeconfig.ts), the first one that is ready is
// passed as --server, unless the command line already picks a server or context.
import { spawn } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';
import { firstReady } from '../client/failover.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { defaultDataDir } from './flags.ts';

export async function kubectlCommand(args: string[]): Promise<number> {
  const dataDir = process.env.SKIFF_DATA_DIR ?? defaultDataDir();
  const env = { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? path.join(dataDir, 'kubeconfig.yaml') };
  const server = await liveServer(env.KUBECONFIG, args);
  return new Promise((resolve) => {
    const child = spawn('kubectl', server ? [`--server=${server}`, ...args] : args, { stdio: 'inherit', env });
    child.on('error', (err) => { console.error(`skiff kubectl: ${err.message} (is kubectl installed?)`); resolve(127); });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const PICKS_SERVER = /^(-s|--server|--context|--cluster|--kubeconfig)(=|$)/;

/** A ready server when the kubeconfig lists several and the arguments do not choose one; else undefined. */
async function liveServer(kubeconfig: string, args: string[]): Promise<string | undefined> {
  if (kubeconfig.includes(path.delimiter) || args.some((a) => PICKS_SERVER.test(a))) return undefined;
  let creds: ReturnType<typeof loadKubeconfig>;
  try {
    creds = loadKubeconfig(kubeconfig);
  } catch {
    return undefined; // kubectl says what is wrong with it
  }
  if (creds.servers.length < 2) return undefined;
  const agent = new https.Agent({ ca: creds.ca, cert: creds.cert, key: creds.key, rejectUnauthorized: !creds.insecureSkipTLSVerify });
  try {
    // None ready: the first, so that kubectl's error names a server rather than a comma list.
    return await firstReady(creds.servers, agent, creds.token ? { Authorization: `Bearer ${creds.token}` } : {}) ?? creds.servers[0];
  } finally {
    agent.destroy();
  }
}
