// The images Skiff ships itself, built on this machine with no registry:
//   PAUSE_IMAGE   — the pod sandbox image (our pause.c, compiled static by gcc)
//   BUSYBOX_IMAGE — /bin/busybox from busybox-static with every applet linked into /bin
// ensureBuiltinImages(dir) writes them as OCI archives (pause.tar, busybox.tar) for
// `ctr images import` / the agent's importer, and records what they were built from in
// builtin-images.json so the next call (every agent start) only hashes the inputs.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PATH, sha256, writeOciArchive, type ImageSpec, type OciArchive } from './oci-archive.ts';
import type { TarEntry } from './tar.ts';

export const PAUSE_IMAGE = 'skiff.local/pause:1';
export const BUSYBOX_IMAGE = 'skiff.local/busybox:1';
/** Where busybox-static puts its binary (Debian: /bin is /usr/bin). */
export const BUSYBOX_BINARY = '/bin/busybox';
/** The record of what the archives in a directory were built from. */
export const BUILTIN_RECORD = 'builtin-images.json';
/**
 * Bump when the image builders change what they produce (layout, rootfs, config), so
 * archives built by an older Skiff are rebuilt.
 */
export const BUILDER_VERSION = 1;

const PAUSE_SOURCE = fileURLToPath(new URL('./pause.c', import.meta.url));

export type ImageBuildErrorReason = 'ToolMissing' | 'BuildFailed';

export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
  constructor(
    readonly reason: ImageBuildErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface BuiltinImage {
  /** The image reference after import, exactly: e.g. "skiff.local/pause:1". */
  name: string;
  /** Absolute path of the OCI archive. */
  file: string;
  /** Manifest digest ("sha256:…"): what `ctr images ls` shows as DIGEST after import. */
  digest: string;
}

export interface BuiltinOptions {
  /** The busybox binary to package; default BUSYBOX_BINARY. It must be statically linked. */
  busybox?: string;
  /** The C compiler; default "gcc". */
  cc?: string;
  /** Called once per image actually (re)built. */
  log?: (message: string) => void;
}

interface RecordEntry {
  name: string;
  file: string;
  inputHash: string;
  size: number;
  digest: string;
}
type BuiltinRecord = Record<string, RecordEntry>;

interface Builder {
  key: 'pause' | 'busybox';
  name: string;
  file: string;
  inputHash(): Promise<string>;
  build(file: string): Promise<OciArchive>;
}

/**
 * Makes sure `dir` holds pause.tar and busybox.tar built from the current inputs (pause.c,
 * the busybox binary, BUILDER_VERSION); builds whichever is missing or stale and returns
 * both. When nothing changed it reads the two inputs and stats two files (a few ms).
 */
export async function ensureBuiltinImages(dir: string, options: BuiltinOptions = {}): Promise<BuiltinImage[]> {
  const outDir = path.resolve(dir);
  await mkdir(outDir, { recursive: true });
  const busybox = options.busybox ?? BUSYBOX_BINARY;
  const cc = options.cc ?? 'gcc';
  const builders: Builder[] = [
    {
      key: 'pause',
      name: PAUSE_IMAGE,
      file: path.join(outDir, 'pause.tar'),
      inputHash: async () => hashInputs('pause', await readFile(PAUSE_SOURCE)),
      build: (file) => buildPauseImage(file, { cc }),
    },
    {
      key: 'busybox',
      name: BUSYBOX_IMAGE,
      file: path.join(outDir, 'busybox.tar'),
      inputHash: async () => hashInputs('busybox', await readBusybox(busybox)),
      build: (file) => buildBusyboxImage(file, { busybox }),
    },
  ];

  const recordFile = path.join(outDir, BUILTIN_RECORD);
  const record = await readRecord(recordFile);
  const result: BuiltinImage[] = [];
  let changed = false;
  for (const b of builders) {
    const inputHash = await b.inputHash();
    const prev = record[b.key];
    if (prev && prev.inputHash === inputHash && prev.name === b.name && (await sizeOf(b.file)) === prev.size) {
      result.push({ name: b.name, file: b.file, digest: prev.digest });
      continue;
    }
    const started = Date.now();
    const archive = await b.build(b.file);
    record[b.key] = { name: b.name, file: path.basename(b.file), inputHash, size: archive.data.length, digest: archive.manifestDigest };
    changed = true;
    options.log?.(`built ${b.name} -> ${b.file} (${archive.data.length} bytes, ${Date.now() - started} ms)`);
    result.push({ name: b.name, file: b.file, digest: archive.manifestDigest });
  }
  if (changed) await writeAtomic(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  return result;
}

/** Compiles pause.c statically and writes the PAUSE_IMAGE archive to `file`. */
export async function buildPauseImage(file: string, options: { cc?: string; name?: string } = {}): Promise<OciArchive> {
  const binary = await compilePause(options.cc ?? 'gcc');
  return writeOciArchive(file, pauseImageSpec(binary, options.name));
}

/** The pause image: only /pause. */
export function pauseImageSpec(pauseBinary: Buffer, name: string = PAUSE_IMAGE): ImageSpec {
  return {
    name,
    layers: [[{ type: 'file', path: 'pause', data: pauseBinary, mode: 0o755 }]],
    config: { cmd: ['/pause'], env: [`PATH=${DEFAULT_PATH}`] },
  };
}

/** Packages the (static) busybox binary and writes the BUSYBOX_IMAGE archive to `file`. */
export async function buildBusyboxImage(file: string, options: { busybox?: string; name?: string } = {}): Promise<OciArchive> {
  const busybox = options.busybox ?? BUSYBOX_BINARY;
  const binary = await readBusybox(busybox);
  const applets = await listApplets(busybox);
  return writeOciArchive(file, busyboxImageSpec(binary, applets, options.name));
}

/** The busybox image: a small FHS tree, /bin/busybox and a /bin symlink per applet. */
export function busyboxImageSpec(busyboxBinary: Buffer, applets: readonly string[], name: string = BUSYBOX_IMAGE): ImageSpec {
  const entries: TarEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'dir', path: 'dev' },
    { type: 'dir', path: 'etc' },
    { type: 'dir', path: 'home' },
    { type: 'dir', path: 'proc' },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'sbin' },
    { type: 'dir', path: 'sys' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'usr' },
    { type: 'dir', path: 'usr/bin' },
    { type: 'dir', path: 'usr/sbin' },
    { type: 'dir', path: 'var' },
    { type: 'dir', path: 'var/tmp', mode: 0o1777 },
    { type: 'dir', path: 'var/www' },
    { type: 'file', path: 'bin/busybox', data: busyboxBinary, mode: 0o755 },
  ];
  const names = [...new Set(applets)].filter((a) => a !== 'busybox' && /^[^/\0]+$/.test(a)).sort();
  for (const a of names) entries.push({ type: 'symlink', path: `bin/${a}`, target: 'busybox' });
  // `#!/usr/bin/env sh` scripts expect env here.
  entries.push({ type: 'symlink', path: 'usr/bin/env', target: '/bin/busybox' });
  entries.push(
    { type: 'file', path: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' },
    { type: 'file', path: 'etc/group', data: 'root:x:0:\nnobody:x:65534:\n' },
  );
  return { name, layers: [entries], config: { cmd: ['sh'], env: [`PATH=${DEFAULT_PATH}`] } };
}

async function compilePause(cc: string): Promise<Buffer> {
  const work = await mkdtemp(path.join(tmpdir(), 'skiff-images-pause-'));
  try {
    const out = path.join(work, 'pause');
    try {
      await run(cc, ['-static', '-Os', '-s', '-Wall', '-o', out, PAUSE_SOURCE]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') {
        throw new ImageBuildError('ToolMissing', `building ${PAUSE_IMAGE} needs a C compiler: "${cc}" not found; install it with: apt-get install -y gcc libc6-dev`);
      }
      const stderr = e.stderr ?? '';
      if (/cannot find -lc\b|fatal error: [\w./-]+\.h: No such file or directory/.test(stderr)) {
        throw new ImageBuildError('ToolMissing', `building ${PAUSE_IMAGE} needs the C library headers and static libc: apt-get install -y libc6-dev\n${stderr}`);
      }
      throw new ImageBuildError('BuildFailed', `compiling ${PAUSE_SOURCE} failed: ${e.message}\n${stderr}`);
    }
    return await readFile(out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readBusybox(file: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ImageBuildError('ToolMissing', `building ${BUSYBOX_IMAGE} needs a static busybox at ${file}; install it with: apt-get install -y busybox-static`);
    }
    throw err;
  }
  if (!isStaticElf(data)) {
    throw new ImageBuildError('ToolMissing', `${file} is not a statically linked ELF binary (the "busybox" package is dynamic); install the static one with: apt-get install -y busybox-static`);
  }
  return data;
}

async function listApplets(busybox: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(busybox, ['--list']));
  } catch (err) {
    throw new ImageBuildError('BuildFailed', `${busybox} --list failed: ${(err as Error).message}`);
  }
  const applets = stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '');
  if (!applets.includes('sh')) throw new ImageBuildError('BuildFailed', `${busybox} --list has no "sh" applet`);
  return applets;
}

/** An ELF file with no PT_INTERP program header runs without a dynamic loader. */
export function isStaticElf(data: Buffer): boolean {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = data[4] === 2;
  const le = data[5] === 1;
  const u16 = (o: number) => (le ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? data.readBigUInt64LE(o) : data.readBigUInt64BE(o));
  const phoff = is64 ? u64(0x20) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > data.length) return false;
    if (u32(off) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

function hashInputs(kind: string, data: Buffer): string {
  return sha256(Buffer.concat([Buffer.from(`skiff-builtin-image ${kind} v${BUILDER_VERSION}\n`), data]));
}

async function readRecord(file: string): Promise<BuiltinRecord> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as BuiltinRecord) : {};
  } catch {
    return {};
  }
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}
