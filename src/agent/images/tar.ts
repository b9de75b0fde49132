// A small, deterministic tar writer (POSIX ustar, with PAX extended headers for names and
// link targets that do not fit). Enough for image layers and OCI archives: regular files,
// directories and symlinks, all owned by root, with one fixed mtime so that the same
// entries always give the same bytes.
import { writeFile } from 'node:fs/promises';

export type TarEntry =
  | { type: 'file'; path: string; data: Buffer | string; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

export interface TarOptions {
  /** Modification time of every entry, in seconds since the epoch. Default 0. */
  mtime?: number;
  /**
   * Add a directory entry (mode 0755) for every parent that the entries do not list
   * themselves, before its first child. Default true.
   */
  implicitDirs?: boolean;
}

const BLOCK = 512;
const DEFAULT_FILE_MODE = 0o644;
const DEFAULT_DIR_MODE = 0o755;
const SYMLINK_MODE = 0o777;

/** Entry paths are relative ("bin/sh"); a leading "/" or "./" and a trailing "/" are dropped. */
export function normalizeTarPath(p: string): string {
  let s = p.replace(/\/+/g, '/');
  while (s.startsWith('./')) s = s.slice(2);
  s = s.replace(/^\/+/, '').replace(/\/+$/, '');
  if (s === '' || s === '.') throw new Error(`tar: empty entry path ${JSON.stringify(p)}`);
  if (s.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`tar: entry path must not contain "." or ".." components: ${JSON.stringify(p)}`);
  }
  return s;
}

/** The whole archive in memory (two zero blocks at the end). */
export function createTar(entries: readonly TarEntry[], options: TarOptions = {}): Buffer {
  const mtime = options.mtime ?? 0;
  const implicitDirs = options.implicitDirs ?? true;
  const chunks: Buffer[] = [];
  const seen = new Map<string, TarEntry['type']>();

  const emit = (e: TarEntry, path: string): void => {
    const prev = seen.get(path);
    if (prev !== undefined) {
      // A directory listed twice (explicitly after an implicit parent) is harmless; anything else is a mistake.
      if (prev === 'dir' && e.type === 'dir') return;
      throw new Error(`tar: duplicate entry ${JSON.stringify(path)}`);
    }
    seen.set(path, e.type);
    chunks.push(...encodeEntry(e, path, mtime));
  };

  for (const e of entries) {
    const path = normalizeTarPath(e.path);
    if (implicitDirs) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        if (!seen.has(parent)) emit({ type: 'dir', path: parent }, parent);
        else if (seen.get(parent) !== 'dir') throw new Error(`tar: ${JSON.stringify(parent)} is not a directory`);
      }
    }
    emit(e, path);
  }
  chunks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(chunks);
}

/** createTar, written to `file`. */
export async function writeTar(file: string, entries: readonly TarEntry[], options: TarOptions = {}): Promise<void> {
  await writeFile(file, createTar(entries, options));
}

function encodeEntry(e: TarEntry, path: string, mtime: number): Buffer[] {
  const data = e.type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data) : e.data) : Buffer.alloc(0);
  const name = e.type === 'dir' ? `${path}/` : path;
  const linkname = e.type === 'symlink' ? e.target : '';
  const mode = e.type === 'symlink' ? SYMLINK_MODE : (e.mode ?? (e.type === 'dir' ? DEFAULT_DIR_MODE : DEFAULT_FILE_MODE));
  const typeflag = e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2';

  const out: Buffer[] = [];
  const pax: [string, string][] = [];
  let split = splitName(name);
  if (split === null) {
    pax.push(['path', name]);
    split = { prefix: '', name: truncateUtf8(name, 100) };
  }
  let link = linkname;
  if (Buffer.byteLength(linkname) > 100) {
    pax.push(['linkpath', linkname]);
    link = truncateUtf8(linkname, 100);
  }
  if (pax.length > 0) {
    const body = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''));
    const paxName = truncateUtf8(`PaxHeaders/${split.name}`, 100);
    out.push(header({ name: paxName, prefix: '', mode: 0o644, size: body.length, mtime, typeflag: 'x', linkname: '' }));
    out.push(body, padding(body.length));
  }
  out.push(header({ name: split.name, prefix: split.prefix, mode, size: data.length, mtime, typeflag, linkname: link }));
  if (data.length > 0) out.push(data, padding(data.length));
  return out;
}

/** ustar stores up to 100 bytes of name plus 155 of prefix, split at a "/"; null if it cannot. */
function splitName(name: string): { prefix: string; name: string } | null {
  const len = Buffer.byteLength(name);
  if (len <= 100) return { prefix: '', name };
  if (len > 256) return null;
  // Try every "/" from the right: the name part must fit in 100, the prefix in 155.
  for (let i = name.lastIndexOf('/', name.length - 2); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return { prefix, name: rest };
  }
  return null;
}

function truncateUtf8(s: string, max: number): string {
  const b = Buffer.from(s);
  return b.length <= max ? s : b.subarray(0, max).toString('latin1');
}

/** A PAX record is "<len> <key>=<value>\n" where <len> counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restLen = Buffer.byteLength(rest);
  let len = restLen + 1;
  while (String(len).length + restLen !== len) len = String(len).length + restLen;
  return `${len}${rest}`;
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

interface Header {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
}

function header(h: Header): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, 0); // uid
  octal(b, 116, 8, 0); // gid
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  b.write(h.typeflag, 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1'); // magic "ustar\0" + version "00"
  b.write('root', 265, 32, 'latin1'); // uname
  b.write('root', 297, 32, 'latin1'); // gname
  octal(b, 329, 8, 0); // devmajor
  octal(b, 337, 8, 0); // devminor
  b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return b;
}

/** Zero-padded octal, NUL-terminated, filling `len` bytes. */
function octal(b: Buffer, offset: number, len: number, value: number): void {
  const s = value.toString(8);
  if (s.length > len - 1) throw new Error(`tar: value ${value} does not fit a ${len}-byte field`);
  b.write(`${s.padStart(len - 1, '0')}\u0000`, offset, len, 'latin1');
}
