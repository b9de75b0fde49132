// Starts `skiff sim` (simulated nodes) against a test server, the way a user runs it:
// `skiff sim --server URL --token "$(cat DATA/token)" --data-dir DATA --nodes N`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { TestServer } from './cluster.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface TestSim {
  process: ChildProcess;
  /** Node names, `<prefix>-0 … <prefix>-(N-1)`. */
  nodes: string[];
  /** Stops the simulator (SIGTERM by default) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startSim(server: TestServer, opts: { nodes: number; prefix: string; args?: string[] }): Promise<TestSim> {
  const token = readFileSync(path.join(server.dataDir, 'token'), 'utf8').trim();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/skiff.js'), 'sim', '--server', server.url, '--token', token,
    '--data-dir', server.dataDir, '--nodes', String(opts.nodes), '--name-prefix', opts.prefix, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d) => { output += d; });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sim not ready in 20 s:\n${output}`)); }, 20_000);
    child.stdout!.on('data', (d) => {
      output += d;
      if (/\bready\b/.test(output)) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`sim exited with ${code}:\n${output}`)); });
  });
  return {
    process: child,
    nodes: Array.from({ length: opts.nodes }, (_, i) => `${opts.prefix}-${i}`),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
