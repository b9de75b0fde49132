// Mounting tmpfs and reading the mount table. Behind an interface so tests (and a non-root
// development agent) can substitute it; the real one runs mount(8)/umount(8) and reads
// /proc/self/mountinfo.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MountInfo {
  mountPoint: string;
  fsType: string;
  source: string;
  /** Per-mount options (rw,relatime…). */
  options: string;
  /** Superblock options (for tmpfs: size=…). */
  superOptions: string;
}

export interface Mounter {
  /** Mounts a tmpfs at `target`; `sizeBytes` becomes `size=` (none: the kernel's default, half of RAM). */
  mountTmpfs(target: string, sizeBytes?: bigint): Promise<void>;
  unmount(target: string): Promise<void>;
  /** The current mount table. */
  mounts(): Promise<MountInfo[]>;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0 || f.length < dash + 3) continue;
    out.push({
      mountPoint: unescape(f[4]!),
      options: f[5]!,
      fsType: f[dash + 1]!,
      source: unescape(f[dash + 2]!),
      superOptions: f[dash + 3] ?? '',
    });
  }
  return out;
}

export class SystemMounter implements Mounter {
  constructor(private readonly mountinfo = '/proc/self/mountinfo') {}

  async mountTmpfs(target: string, sizeBytes?: bigint): Promise<void> {
    const args = ['-t', 'tmpfs'];
    if (sizeBytes !== undefined && sizeBytes > 0n) args.push('-o', `size=${sizeBytes}`);
    await run('mount', [...args, 'tmpfs', target]);
  }

  async unmount(target: string): Promise<void> {
    await run('umount', [target]);
  }

  async mounts(): Promise<MountInfo[]> {
    return parseMountInfo(await readFile(this.mountinfo, 'utf8'));
  }
}
