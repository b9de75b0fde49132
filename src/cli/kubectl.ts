// `skiff kubectl ...`: the system kubectl with this cluster's kubeconfig.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { defaultDataDir } from './flags.ts';

export async function kubectlCommand(args: string[]): Promise<number> {
  const dataDir = process.env.SKIFF_DATA_DIR ?? defaultDataDir();
  const env = { ...process.env, KUBECONFIG: process.env.KUBECONFIG ?? path.join(dataDir, 'kubeconfig.yaml') };
  return new Promise((resolve) => {
    const child = spawn('kubectl', args, { stdio: 'inherit', env });
    child.on('error', (err) => { console.error(`skiff kubectl: ${err.message} (is kubectl installed?)`); resolve(127); });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
