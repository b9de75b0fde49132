// Runs nft scripts, each one transaction; a failure keeps nft's own words (and the script
// lines it names) so the log says what the kernel refused.
//
// nftSession() keeps one `nft -i` child for the proxy's whole life: an update then pays
// neither nft's start (~6 ms) nor the 10–15 ms more a one-shot nft takes when its
// transaction removes something (measured: a one-shot `nft -f` that deletes one map element
// takes 25–30 ms, the same transaction in a running `nft -i` 2 ms; see README "Measured"). Each script is
// written to a file and sent as `include "<file>"` (one line: one transaction, atomic),
// followed by a marker line that is a syntax error: nft parses it without asking the kernel
// anything and echoes it on stderr, so everything nft wrote to stderr before the marker's
// error belongs to the script. nft -i re-reads its cache whenever the kernel's generation
// changed, so it sees tables others changed. nftRunner() starts `nft -f -` per script
// (cleanup, tests, and the fallback when `nft -i` is not available).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface NftRunner {
  (script: string): Promise<void>;
  /** Ends the runner's nft child, if it keeps one (ServiceProxy.stop calls it). */
  close?(): void;
}

export class NftError extends Error {
  constructor(readonly stderr: string, readonly script: string, code: number | null) {
    super(`nft ${code === null ? 'failed' : `exited with ${code}`}: ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
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

export interface NftSessionOptions {
  /** Runs nft through another command (e.g. nsenter --net=…). */
  prefix?: string[];
  /** A script nft has not answered by then kills the child (default 60 s). */
  timeoutMs?: number;
  /** Transactions before the child is replaced (nft -i keeps a history of every line; default 2,000). */
  maxRuns?: number;
  /** Where the script file's directory goes (default /dev/shm when there is one: no disk write; else the temp dir). */
  tmpDir?: string;
}

/**
 * A runner that keeps one `nft -i` child and sends it each script as one transaction, one
 * at a time. A failed script, a dead or silent child: the child is replaced (the next
 * script starts from a fresh cache). When `nft -i` exits or fails before answering its first
 * marker (nft built without its CLI), every script runs as `nft -f -` instead.
 */
export function nftSession(opts: NftSessionOptions = {}): NftRunner {
  const s = new NftSession(opts);
  s.warm(); // nft starts while the caller renders its first script
  return Object.assign((script: string) => s.run(script), { close: () => s.close() });
}

const PROBE_MS = 5000;

class NftSession {
  readonly #prefix: string[];
  readonly #timeoutMs: number;
  readonly #maxRuns: number;
  readonly #tmpDir: string;
  #child: NftChild | undefined;
  #starting: Promise<NftChild | undefined> | undefined;
  #runs = 0;
  #dir: string | undefined;
  #fallback: NftRunner | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(opts: NftSessionOptions) {
    this.#prefix = opts.prefix ?? [];
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
    this.#maxRuns = opts.maxRuns ?? 2000;
    this.#tmpDir = opts.tmpDir ?? (isDir('/dev/shm') ? '/dev/shm' : os.tmpdir());
  }

  warm(): void {
    this.#ready().catch(() => {}); // a failure shows on the first run
  }

  run(script: string): Promise<void> {
    const p = this.#tail.then(() => this.#run(script));
    this.#tail = p.catch(() => {});
    return p;
  }

  close(): void {
    this.#closed = true;
    this.#drop();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  async #run(script: string): Promise<void> {
    if (this.#closed) throw new Error('nft session closed');
    const child = this.#fallback ? undefined : await this.#ready();
    if (!child) {
      if (!this.#fallback) throw new Error('nft session closed');
      return this.#fallback(script);
    }
    if (!this.#dir) {
      removeOrphanScriptDirs(this.#tmpDir);
      this.#dir = mkdtempSync(path.join(this.#tmpDir, `${SCRIPT_DIR_PREFIX}${process.pid}-`));
    }
    const file = path.join(this.#dir, 'script.nft');
    writeFileSync(file, script);
    let stderr: string;
    try {
      stderr = await child.send(`include "${file}"`, this.#timeoutMs);
    } catch (err) {
      this.#drop();
      throw new NftError((err as Error).message, script, null);
    }
    if (stderr.includes('Error')) {
      this.#drop(true); // the retry starts with a fresh nft
      throw new NftError(stderr, script, null);
    }
    if (++this.#runs >= this.#maxRuns) this.#drop(true);
  }

  /** The running child, or a new one that answered its first marker; undefined: use the fallback. */
  #ready(): Promise<NftChild | undefined> {
    if (this.#child?.alive) return Promise.resolve(this.#child);
    this.#starting ??= this.#start().finally(() => { this.#starting = undefined; });
    return this.#starting;
  }

  async #start(): Promise<NftChild | undefined> {
    const child = new NftChild([...this.#prefix, 'nft', '-i']);
    try {
      await child.send(undefined, PROBE_MS);
    } catch (err) {
      child.kill();
      if (err instanceof NftTimeout) throw err; // a slow machine: try nft -i again next time
      this.#fallback = nftRunner(this.#prefix); // no `nft -i` here
      return undefined;
    }
    if (this.#closed) {
      child.end();
      return undefined;
    }
    this.#child = child;
    this.#runs = 0;
    return child;
  }

  /** Ends the child; `respawn`: start the next one now, so the next script does not wait for it. */
  #drop(respawn = false): void {
    this.#child?.end();
    this.#child = undefined;
    if (respawn && !this.#closed) void this.#ready();
  }
}

class NftTimeout extends Error {}

/** Script directories are named `skiff-nft-<pid>-XXXXXX` after the process that made them. */
const SCRIPT_DIR_PREFIX = 'skiff-nft-';

/**
 * Removes the script directories of processes that are gone: a killed agent cannot
 * remove its own (close() never ran), so the next session on the machine does.
 */
export function removeOrphanScriptDirs(dir: string, alive: (pid: number) => boolean = processAlive): void {
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names) {
    const m = /^skiff-nft-(\d+)-/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** One `nft -i` process: a line in, then a marker; what stderr says up to the marker's error is the line's. */
class NftChild {
  readonly #proc: ChildProcess;
  #stderr = '';
  #seq = 0;
  #gone: string | undefined;
  #waiter: { marker: string; resolve: (stderr: string) => void; reject: (err: Error) => void } | undefined;

  constructor(argv: string[]) {
    const [cmd, ...args] = argv;
    // HOME: nft -i saves its history (every line) to ~/.nft.history on exit; not ours to write.
    this.#proc = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, HOME: '/dev/null', TERM: 'dumb' } });
    this.#proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr += d;
      this.#check();
    });
    this.#proc.on('error', (err) => this.#fail(`nft -i: ${err.message}`));
    this.#proc.on('exit', (code, signal) => this.#fail(`nft -i exited (${signal ?? code})${this.#stderr ? `: ${this.#stderr.trim().slice(0, 2000)}` : ''}`));
    this.#proc.stdin!.on('error', () => {}); // a dead child: 'exit' reports it
  }

  get alive(): boolean {
    return this.#gone === undefined;
  }

  /** Sends `line` (none: only the marker) and resolves with what nft wrote to stderr for it. */
  send(line: string | undefined, timeoutMs: number): Promise<string> {
    if (this.#gone) return Promise.reject(new Error(this.#gone));
    const marker = `skiffnftdone${++this.#seq}`;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new NftTimeout(`nft -i did not answer within ${timeoutMs} ms`));
        this.kill();
      }, timeoutMs);
      this.#waiter = {
        marker,
        resolve: (s) => { clearTimeout(timer); resolve(s); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.#proc.stdin!.write(`${line === undefined ? '' : `${line}\n`}${marker}\n`);
    });
  }

  /** Closes stdin: nft finishes what it has and exits. */
  end(): void {
    this.#proc.stdin!.end();
  }

  kill(): void {
    this.#proc.kill('SIGKILL');
  }

  #check(): void {
    const w = this.#waiter;
    if (!w) return;
    // The marker's error: "Error: syntax error, …\n<marker>\n<spaces>^\n".
    const at = this.#stderr.indexOf(`\n${w.marker}\n`);
    if (at < 0) return;
    const end = this.#stderr.indexOf('\n', at + w.marker.length + 2);
    if (end < 0) return;
    const own = this.#stderr.slice(0, this.#stderr.lastIndexOf('\n', at - 1) + 1);
    this.#stderr = this.#stderr.slice(end + 1);
    this.#waiter = undefined;
    w.resolve(own);
  }

  #fail(why: string | Error): void {
    this.#gone ??= typeof why === 'string' ? why : why.message;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(typeof why === 'string' ? new Error(why) : why);
  }
}

/** Deletes a table; a table that is not there is not an error. */
export async function deleteTable(table: string, run: NftRunner = nftRunner()): Promise<void> {
  // `add` first makes the delete succeed whether or not the table existed.
  await run(`add table ${table}\ndelete table ${table}\n`);
}
