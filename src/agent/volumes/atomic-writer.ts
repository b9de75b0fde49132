// The kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files are
// written into a fresh timestamped directory, then a `..data` symlink is swapped to it with
// one rename(2), so a reader sees either the whole old set or the whole new set. The paths
// users see are symlinks through `..data`:
//
//   <volume>/key             -> ..data/key          (one per top-level payload entry)
//   <volume>/..data          -> ..2024_05_01_10_00_00.123456
//   <volume>/..2024_05_01_10_00_00.123456/key       (the real files, with their modes)
//
// The old timestamped dir is removed after the swap; an unchanged payload writes nothing.
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, chmod, unlink, writeFile } from 'node:fs/promises';
import { posix, join } from 'node:path';
import type { Payload } from './types.ts';

export const DATA_DIR_NAME = '..data';
const DATA_DIR_TMP_NAME = '..data_tmp';
const MAX_PATH_LENGTH = 4096;
const MAX_FILE_NAME_LENGTH = 255;

/** atomic_writer.go validatePath: relative, no `..` element, not starting with `..`. */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new Error(`invalid path: must not be empty: ""`);
  if (posix.isAbsolute(p)) throw new Error(`invalid path: must be relative path: ${p}`);
  if (p.length > MAX_PATH_LENGTH) throw new Error(`invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`);
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') throw new Error(`invalid path: must not contain '..': ${p}`);
    if (item.length > MAX_FILE_NAME_LENGTH) throw new Error(`invalid path: filenames must be less than ${MAX_FILE_NAME_LENGTH} characters`);
  }
  if (items[0]!.startsWith('..') && items[0]!.length > 2) throw new Error(`invalid path: must not start with '..': ${p}`);
}

function cleanPayload(payload: Payload): Payload {
  const out: Payload = new Map();
  for (const [p, f] of payload) {
    validatePayloadPath(p);
    out.set(posix.normalize(p).replace(/\/+$/, ''), f);
  }
  return out;
}

const exists = async (p: string): Promise<boolean> => lstat(p).then(() => true, () => false);

/** Every file and directory under `dir`, relative to it. */
async function walk(dir: string, prefix = ''): Promise<Map<string, 'file' | 'dir'>> {
  const out = new Map<string, 'file' | 'dir'>();
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out.set(rel, 'dir');
      for (const [k, v] of await walk(join(dir, e.name), rel)) out.set(k, v);
    } else {
      out.set(rel, 'file');
    }
  }
  return out;
}

/** The kubelet's timestamp dir prefix: `..2006_01_02_15_04_05.` in UTC. */
function tsPrefix(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

export interface WriteResult {
  /** False when the payload matched what was there (nothing written). */
  written: boolean;
  dataDir: string;
}

/**
 * Projects `payload` into `targetDir` atomically. `targetDir` must exist. Throws on an
 * invalid payload path before touching anything.
 */
export async function atomicWrite(targetDir: string, payload: Payload, now: () => Date = () => new Date()): Promise<WriteResult> {
  const clean = cleanPayload(payload);
  const dataLink = join(targetDir, DATA_DIR_NAME);

  let oldTsName: string | undefined;
  try {
    oldTsName = await readlink(dataLink);
  } catch {
    oldTsName = undefined;
  }
  const oldTsDir = oldTsName ? join(targetDir, oldTsName) : undefined;
  const oldPaths = oldTsDir ? await walk(oldTsDir) : new Map<string, 'file' | 'dir'>();

  // Paths the new payload no longer has (a path's parents count as kept).
  const kept = new Set<string>();
  for (const p of clean.keys()) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) kept.add(parts.slice(0, i).join('/'));
  }
  const pathsToRemove = [...oldPaths.keys()].filter((p) => !kept.has(p));

  if (oldTsDir && pathsToRemove.length === 0 && (await sameContent(oldTsDir, clean))) {
    return { written: false, dataDir: oldTsDir };
  }

  const tsDir = await mkdtemp(join(targetDir, tsPrefix(now())));
  try {
    await chmod(tsDir, 0o755);
    for (const [p, f] of clean) {
      const full = join(tsDir, p);
      await mkdir(posix.dirname(full), { recursive: true, mode: 0o755 });
      await writeFile(full, f.data, { mode: f.mode & 0o7777 });
      await chmod(full, f.mode & 0o7777); // writeFile's mode is filtered by the umask
    }
  } catch (err) {
    await rm(tsDir, { recursive: true, force: true });
    throw err;
  }

  // The swap: a new symlink renamed over `..data` is atomic.
  const tmpLink = join(targetDir, DATA_DIR_TMP_NAME);
  await rm(tmpLink, { force: true });
  await symlink(posix.basename(tsDir), tmpLink);
  await rename(tmpLink, dataLink);

  // User-visible symlinks for new top-level entries, and away with removed ones.
  for (const p of clean.keys()) {
    const top = p.split('/')[0]!;
    const visible = join(targetDir, top);
    if (!(await exists(visible))) await symlink(posix.join(DATA_DIR_NAME, top), visible);
  }
  for (const p of pathsToRemove) {
    if (p.includes('/')) continue;
    await unlink(join(targetDir, p)).catch(() => undefined);
  }
  if (oldTsDir) await rm(oldTsDir, { recursive: true, force: true });
  return { written: true, dataDir: tsDir };
}

async function sameContent(dir: string, payload: Payload): Promise<boolean> {
  for (const [p, f] of payload) {
    const full = join(dir, p);
    try {
      const st = await lstat(full);
      if (!st.isFile() || (st.mode & 0o7777) !== (f.mode & 0o7777)) return false;
      if (!(await readFile(full)).equals(f.data)) return false;
    } catch {
      return false;
    }
  }
  return true;
}
