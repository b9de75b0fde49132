// hostPath type checks (pkg/volume/hostpath checkType): the *OrCreate types create what is
// missing, the others must find the right kind of file, with the kubelet's messages. The
// path is used as given; nothing here ever deletes a host path.
import { mkdir, open, stat } from 'node:fs/promises';

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

async function statOrUndefined(p: string) {
  try {
    return await stat(p);
  } catch {
    return undefined;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    // A dangling symlink exists as far as PathExists is concerned only if lstat sees it; the
    // kubelet's PathExists uses stat, so a broken link counts as missing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    return true;
  }
}

/** Checks (and for *OrCreate, creates) the host path; throws Error with the kubelet's text. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  const t = type ?? '';
  if (t === '') return;
  const fail = (what: string) => new Error(`hostPath type check failed: ${path} is not ${what}`);
  switch (t) {
    case 'DirectoryOrCreate':
      if (!(await exists(path))) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
    // fallthrough
    case 'Directory':
      if (!(await statOrUndefined(path))?.isDirectory()) throw fail('a directory');
      return;
    case 'FileOrCreate':
      if (!(await exists(path))) {
        // Like the kubelet: the parent must already exist.
        const fh = await open(path, 'a', 0o644);
        await fh.close();
        return;
      }
    // fallthrough
    case 'File':
      if (!(await statOrUndefined(path))?.isFile()) throw fail('a file');
      return;
    case 'Socket':
      if (!(await statOrUndefined(path))?.isSocket()) throw fail('a socket file');
      return;
    case 'CharDevice':
      if (!(await statOrUndefined(path))?.isCharacterDevice()) throw fail('a character device');
      return;
    case 'BlockDevice':
      if (!(await statOrUndefined(path))?.isBlockDevice()) throw fail('a block device');
      return;
  }
  throw new Error(`${t} is an invalid volume type`);
}
