// Runs `nft -f -` with a script on stdin; a failure keeps nft's own words (and the script
// lines it names) so the log says what the kernel refused.
import { spawn } from 'node:child_process';

export type NftRunner = (script: string) => Promise<void>;

export class NftError extends Error {
  constructor(readonly stderr: string, readonly script: string, code: number | null) {
    super(`nft exited with ${code}: ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
    this.name = 'NftError';
  }
}

/** A runner for `nft -f -`; `prefix` runs it through another command (e.g. nsenter --net=…). */
export function nftRunner(prefix: string[] = []): NftRunner {
  const [cmd, ...args] = [...prefix, 'nft', '-f', '-'];
  return (script) => new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 64_000) stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new NftError(stderr, script, code))));
    child.stdin.on('error', () => {}); // nft may exit before reading everything; 'close' reports it
    child.stdin.end(script);
  });
}

/** Deletes a table; a table that is not there is not an error. */
export async function deleteTable(table: string, run: NftRunner = nftRunner()): Promise<void> {
  // `add` first makes the delete succeed whether or not the table existed.
  await run(`add table ${table}\ndelete table ${table}\n`);
}
