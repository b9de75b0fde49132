// Containerd: one agent's containerd, run as a child process the agent owns.
//
// start(): writes config.toml (+ certs.d, + the CNI conflist when a pod CIDR is given),
// stops a containerd left over from a previous agent run (our pid file), spawns
// `containerd --config FILE` with its output appended to <agentDir>/containerd/containerd.log
// and waits until the socket answers CRI Version. If containerd exits while we did not ask
// it to, it is restarted with backoff (0.5 s doubling to 30 s; reset after a minute up);
// containers keep running meanwhile (their shims are separate processes) and are adopted
// by the new containerd. stop() stops containerd only: pods keep running, as users
// expect of a plain agent stop; `killall` (killall.ts) is what tears everything down.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import { CriClient } from '../cri/client.ts';
import { silentLogger, type Logger } from '../../util/log.ts';
import { writeContainerdConfig, type ContainerdConfigOptions } from './config.ts';
import { writeCniConfig } from './cni.ts';
import { agentNames, type AgentNames } from './names.ts';

export interface ContainerdOptions extends ContainerdConfigOptions {
  /** the node's pod CIDR; when given, start() writes the CNI conflist for it */
  podCidr?: string;
  logger?: Logger;
  /** default 'containerd' / 'ctr' from PATH */
  containerdBinary?: string;
  ctrBinary?: string;
  /** how long start() waits for the CRI to answer (default 30 s) */
  startTimeoutMs?: number;
  /** restart backoff (ms): first delay, cap; default 500 → 30 000 */
  restartBackoffMs?: [initial: number, max: number];
  /** restart on unexpected exit (default true) */
  autoRestart?: boolean;
}

export type ContainerdEventMap = {
  /** containerd is up and its CRI answers */
  started: [{ pid: number; ms: number; restarts: number }];
  /** containerd exited without stop() */
  exited: [{ pid: number; code: number | null; signal: NodeJS.Signals | null }];
  /** a restart attempt failed; another follows after delayMs */
  'restart-failed': [{ error: Error; delayMs: number }];
};

export interface ImportSource {
  file: string;
  /** image name(s) the archive holds; when given with digest, an import is skipped if containerd already has exactly that */
  name?: string;
  digest?: string;
}

export interface ImportResult {
  file: string;
  imported: boolean;
  names: string[];
  ms: number;
  /** why a dropped archive (a bare path) could not be imported; it is skipped, not fatal */
  error?: string;
}

interface ImportRecord {
  [file: string]: { size: number; mtimeMs: number; names: string[] };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Is `pid` a live process whose command line mentions `needle`? */
export function processMatches(pid: number, needle: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.includes(needle));
  } catch {
    return false;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(20);
  }
  return !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    // a zombie still answers kill(0); /proc/PID/stat's state says Z
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export function runTool(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Like runTool, with `input` piped to the tool's stdin. */
export function runToolWithInput(cmd: string, args: string[], input: Readable, timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve({ stdout, stderr });
    });
    input.on('error', (err) => { child.kill(); reject(new Error(`${cmd} ${args.join(' ')}: reading the input: ${err.message}`)); });
    child.stdin!.on('error', () => {}); // the tool may exit before reading everything; its exit status says why
    input.pipe(child.stdin!);
  });
}

function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

export class Containerd extends EventEmitter<ContainerdEventMap> {
  readonly names: AgentNames;
  #opts: ContainerdOptions;
  #log: Logger;
  #child: ChildProcess | undefined;
  #stopping = false;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #backoff: number;
  #starting: Promise<void> | undefined;

  constructor(opts: ContainerdOptions) {
    super();
    this.#opts = opts;
    this.names = agentNames(opts.agentDir);
    this.#log = (opts.logger ?? silentLogger).child('containerd');
    this.#backoff = (opts.restartBackoffMs ?? [500, 30_000])[0];
  }

  /** containerd's gRPC socket (CRI endpoint). */
  get socket(): string {
    return this.#opts.socket ?? this.names.socket;
  }

  get logFile(): string {
    return this.names.logFile;
  }

  /** pid of the running containerd, if any */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  /** how many times containerd was restarted after an unexpected exit */
  get restarts(): number {
    return this.#restarts;
  }

  /** A new CRI client on our socket (the caller closes it). */
  client(): CriClient {
    return CriClient.connect(this.socket);
  }

  /** Rewrites the CNI conflist for a new pod CIDR (containerd reloads it by itself). */
  setPodCidr(podCidr: string): boolean {
    this.#opts = { ...this.#opts, podCidr };
    return writeCniConfig({ agentDir: this.#opts.agentDir, podCidr, confDir: this.#opts.cniConfDir }).changed;
  }

  async start(): Promise<void> {
    this.#stopping = false;
    if (this.pid) return;
    if (!this.#starting) this.#starting = this.#start().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async #start(): Promise<void> {
    const t0 = Date.now();
    writeContainerdConfig(this.#opts);
    if (this.#opts.podCidr) writeCniConfig({ agentDir: this.#opts.agentDir, podCidr: this.#opts.podCidr, confDir: this.#opts.cniConfDir });
    await this.#stopStale();
    mkdirSync(path.dirname(this.logFile), { recursive: true });
    const logFd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#opts.containerdBinary ?? 'containerd', ['--config', this.names.configFile], {
        stdio: ['ignore', logFd, logFd],
        // its own process group: a Ctrl-C meant for the agent does not reach containerd
        // (the agent stops it itself), and the agent exiting does not take it along
        detached: true,
        env: { ...process.env, PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      });
    } finally {
      closeSync(logFd);
    }
    const exited = new Promise<Error>((resolve) => {
      child.once('error', (err) => resolve(new Error(`containerd failed to start: ${err.message}`)));
      child.once('exit', (code, signal) => resolve(new Error(`containerd exited (${signal ?? `code ${code}`}) while starting`)));
    });
    this.#child = child;
    if (child.pid) writeFileSync(this.names.pidFile, `${child.pid}\n`);
    child.on('exit', (code, signal) => this.#onExit(child, code, signal));

    const cri = CriClient.connect(this.socket);
    const timeout = this.#opts.startTimeoutMs ?? 30_000;
    try {
      const ready = cri.waitReady(timeout).then(() => undefined);
      const failed = await Promise.race([ready.then(() => undefined), exited]);
      if (failed) throw failed;
    } catch (err) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}; see ${this.logFile}:\n${tail(this.logFile, 15)}`);
    } finally {
      cri.close();
    }
    this.#startedAt = Date.now();
    const ms = Date.now() - t0;
    this.#log.info('containerd started', { pid: child.pid, ms, socket: this.socket, restarts: this.#restarts });
    this.emit('started', { pid: child.pid!, ms, restarts: this.#restarts });
  }

  /** A containerd from an earlier run of this agent (found by our pid file) is stopped first. */
  async #stopStale(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.names.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (!pid || pid === this.#child?.pid || !processMatches(pid, this.names.configFile)) return;
    this.#log.info('stopping containerd left from an earlier run', { pid });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    if (!(await waitForExit(pid, 10_000))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await waitForExit(pid, 5_000);
    }
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    if (this.#stopping) return;
    if (this.#startedAt === 0) return; // failed during start(): start() reports it
    this.#log.warn('containerd exited unexpectedly', { pid: child.pid, code, signal, log: this.logFile });
    this.emit('exited', { pid: child.pid!, code, signal });
    this.#startedAt = 0;
    if (this.#opts.autoRestart === false) return;
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const [initial, max] = this.#opts.restartBackoffMs ?? [500, 30_000];
    const upMs = this.#startedAt ? Date.now() - this.#startedAt : 0;
    if (upMs > 60_000) this.#backoff = initial;
    const delay = this.#backoff;
    this.#backoff = Math.min(max, this.#backoff * 2);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopping) return;
      this.#restarts++;
      this.start().catch((err: Error) => {
        this.#log.error('containerd restart failed', { error: err.message, retryInMs: this.#backoff });
        this.emit('restart-failed', { error: err, delayMs: this.#backoff });
        if (!this.#stopping) this.#scheduleRestart();
      });
    }, delay);
  }

  /**
   * Stops containerd (SIGTERM, SIGKILL after timeoutMs). Containers and their shims keep
   * running; the next start() adopts them.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#starting?.catch(() => undefined);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await done;
    clearTimeout(t);
    rmSync(this.names.pidFile, { force: true });
    this.#log.info('containerd stopped', { pid: child.pid });
  }

  /**
   * Imports image archives (OCI or docker-archive tars) into the CRI's namespace with ctr.
   * Skipped when containerd already has the image: by name + manifest digest when the
   * caller says them, else by our record of the file (size, mtime) and the names it held.
   */
  async importImages(sources: (string | ImportSource)[]): Promise<ImportResult[]> {
    const ctr = this.#opts.ctrBinary ?? 'ctr';
    const base = ['-a', this.socket, '-n', this.names.namespace];
    const present = await this.#listCtrImages();
    const recordFile = path.join(this.names.containerdDir, 'imported.json');
    let record: ImportRecord = {};
    try {
      record = JSON.parse(readFileSync(recordFile, 'utf8')) as ImportRecord;
    } catch {
      record = {};
    }
    const results: ImportResult[] = [];
    for (const s of sources) {
      const src: ImportSource = typeof s === 'string' ? { file: s } : s;
      const file = path.resolve(src.file);
      const t0 = Date.now();
      const st = statSync(file);
      const rec = record[file];
      let skip = false;
      if (src.name) {
        const have = present.get(src.name);
        skip = have !== undefined && (!src.digest || have === src.digest);
      } else if (rec && rec.size === st.size && rec.mtimeMs === st.mtimeMs && rec.names.length > 0) {
        skip = rec.names.every((n) => present.has(n));
      }
      if (skip) {
        results.push({ file, imported: false, names: src.name ? [src.name] : rec!.names, ms: Date.now() - t0 });
        continue;
      }
      let out: { stdout: string; stderr: string };
      try {
        // ctr reads plain tars only; a gzipped archive (.tar.gz, .tgz) is unpacked on the way in.
        out = isGzip(file)
          ? await runToolWithInput(ctr, [...base, 'images', 'import', '--all-platforms', '-'], createReadStream(file).pipe(createGunzip()), 300_000)
          : await runTool(ctr, [...base, 'images', 'import', '--all-platforms', file], 300_000);
      } catch (err) {
        // A bad archive dropped by a user is reported and skipped (k3s does the same); ours must import.
        if (src.name) throw err;
        const error = (err as Error).message;
        this.#log.error('image archive not imported', { file, error });
        results.push({ file, imported: false, names: [], ms: Date.now() - t0, error });
        continue;
      }
      const { stdout, stderr } = out;
      // "unpacking skiff.local/busybox:1 (sha256:…)...done"
      const names = [...`${stdout}\n${stderr}`.matchAll(/unpacking (\S+) \(sha256:[0-9a-f]+\)/g)].map((m) => m[1]!);
      record[file] = { size: st.size, mtimeMs: st.mtimeMs, names };
      const ms = Date.now() - t0;
      this.#log.info('imported image archive', { file, names, ms });
      results.push({ file, imported: true, names, ms });
    }
    writeFileSync(recordFile, JSON.stringify(record, null, 2) + '\n');
    return results;
  }

  /** name → manifest digest of the images in the k8s.io namespace */
  async #listCtrImages(): Promise<Map<string, string>> {
    const ctr = this.#opts.ctrBinary ?? 'ctr';
    const { stdout } = await runTool(ctr, ['-a', this.socket, '-n', this.names.namespace, 'images', 'ls']);
    const out = new Map<string, string>();
    for (const line of stdout.split('\n').slice(1)) {
      const [ref, , digest] = line.trim().split(/\s+/);
      if (ref && digest?.startsWith('sha256:')) out.set(ref, digest);
    }
    return out;
  }
}

function tail(file: string, lines: number): string {
  try {
    if (!existsSync(file)) return '(no log)';
    const text = readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(log unreadable)';
  }
}
