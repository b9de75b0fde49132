// Runs `nft -f -` (one script, one kernel transaction: all of it applies or none does).
// `netns` runs it inside a named network namespace (the kernel-level tests use that).
import { spawn } from 'node:child_process';

export type NftApply = (script: string) => Promise<void>;

export function nftRunner(opts: { netns?: string; bin?: string } = {}): NftApply {
  const bin = opts.bin ?? 'nft';
  const argv = opts.netns ? ['ip', ['netns', 'exec', opts.netns, bin, '-f', '-']] as const : [bin, ['-f', '-']] as const;
  return (script) => new Promise((resolve, reject) => {
    const child = spawn(argv[0], [...argv[1]], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`nft -f - exited ${code}: ${stderr.trim().slice(0, 2000)}`));
    });
    child.stdin.on('error', () => {}); // the close handler reports the failure
    child.stdin.end(script);
  });
}

/** Deletes a table if it exists (add-then-delete in one transaction never fails on absence). */
export async function deleteTable(apply: NftApply, family: string, table: string): Promise<void> {
  await apply(`table ${family} ${table} {}\ndelete table ${family} ${table}\n`);
}
