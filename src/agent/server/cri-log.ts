// Reads the CRI container log format that containerd writes, as the kubelet does for
// `kubectl logs`. One entry per line:
//
//   2016-10-06T00:17:09.669794202Z stdout F message
//
// (timestamp, stream stdout|stderr, tag F full or P partial, then the message). Partial
// entries are joined with the entries that follow on the same stream up to the next full
// one: that is one logical line, stamped with its first entry's time. Work is done on
// bytes, so a multi-byte character split across reads, or a message that is not UTF-8,
// goes through untouched and limitBytes counts what the client receives.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export interface CriLogEntry {
  /** The timestamp exactly as written. */
  timestamp: string;
  /** Milliseconds since the epoch (fractional: sub-millisecond digits kept as far as a double allows). */
  time: number;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  message: Buffer;
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;

/** Parses an RFC 3339 timestamp with up to nanosecond digits; NaN when malformed. */
export function parseTimestamp(ts: string): number {
  const m = TIMESTAMP.exec(ts);
  if (!m) return NaN;
  const base = Date.parse(`${m[1]}${m[3]}`);
  return base + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/** RFC3339Nano as Go prints it: trailing zeros of the fraction dropped, the zone kept. */
export function formatTimestamp(ts: string): string {
  return ts.replace(/\.(\d*?)0+(?=Z|[+-])/, (_all, digits: string) => (digits ? `.${digits}` : ''));
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** Parses one line (without its newline); undefined for a line that is not a CRI entry. */
export function parseCriLogLine(line: Buffer): CriLogEntry | undefined {
  const s1 = line.indexOf(SPACE);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(SPACE, s1 + 1);
  if (s2 < 0) return undefined;
  const timestamp = line.toString('latin1', 0, s1);
  const time = parseTimestamp(timestamp);
  if (Number.isNaN(time)) return undefined;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // Tags may carry more than one value separated by ':'; the first is F or P.
  let s3 = line.indexOf(SPACE, s2 + 1);
  if (s3 < 0) s3 = line.length;
  const tags = line.toString('latin1', s2 + 1, s3).split(':');
  if (tags[0] !== 'F' && tags[0] !== 'P') return undefined;
  return { timestamp, time, stream, partial: tags[0] === 'P', message: line.subarray(Math.min(s3 + 1, line.length)) };
}

export interface LogReadOptions {
  follow?: boolean;
  /** Only the last N logical lines present when the read starts (follow continues after them). */
  tailLines?: number;
  /** Skip lines stamped before this time (ms since the epoch). */
  sinceMs?: number;
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

/** Where the container's log is now, asked while following; undefined once the container is gone. */
export type LogLocator = () => { path: string; containerId: string; running?: boolean } | undefined;

export interface FollowOptions {
  locate: LogLocator;
  pollMs?: number;
}

interface Logical { timestamp: string; time: number; body: Buffer }

/** Joins partial entries per stream into logical lines. */
class Assembler {
  #pending = new Map<string, { timestamp: string; time: number; parts: Buffer[] }>();

  push(e: CriLogEntry): Logical | undefined {
    const p = this.#pending.get(e.stream);
    if (e.partial) {
      if (p) p.parts.push(e.message);
      else this.#pending.set(e.stream, { timestamp: e.timestamp, time: e.time, parts: [e.message] });
      return undefined;
    }
    if (!p) return { timestamp: e.timestamp, time: e.time, body: Buffer.concat([e.message, NL]) };
    this.#pending.delete(e.stream);
    return { timestamp: p.timestamp, time: p.time, body: Buffer.concat([...p.parts, e.message, NL]) };
  }

  /** What is still partial, without a newline (the end of a log that will not grow). */
  flush(): Logical[] {
    const out = [...this.#pending.values()].map((p) => ({ timestamp: p.timestamp, time: p.time, body: Buffer.concat(p.parts) }));
    this.#pending.clear();
    return out.sort((a, b) => a.time - b.time);
  }
}

const NL = Buffer.from('\n');
const CHUNK = 64 * 1024;

class LimitReached extends Error {}

/**
 * Streams the log at `path` to `write` with the kubelet's options. Resolves when done: at
 * the end of the file, or when following, once the container is gone, replaced or no longer
 * running and everything it wrote has been sent, when limitBytes is reached, or when
 * `signal` aborts (the client went away). A log file that is rotated or truncated while
 * being followed is reopened from its start.
 */
export async function streamCriLog(
  path: string,
  opts: LogReadOptions,
  write: (chunk: Buffer) => void | Promise<void>,
  signal: AbortSignal,
  follow?: FollowOptions,
): Promise<void> {
  const assembler = new Assembler();
  let remaining = opts.limitBytes ?? Infinity;
  let tail: Logical[] | undefined = opts.tailLines !== undefined ? [] : undefined;

  const emit = async (l: Logical): Promise<void> => {
    if (opts.sinceMs !== undefined && l.time < opts.sinceMs) return;
    if (tail) {
      tail.push(l);
      if (tail.length > opts.tailLines!) tail.shift();
      return;
    }
    let out = opts.timestamps ? Buffer.concat([Buffer.from(`${formatTimestamp(l.timestamp)} `), l.body]) : l.body;
    if (out.length >= remaining) {
      out = out.subarray(0, remaining);
      remaining = 0;
      if (out.length) await write(out);
      throw new LimitReached();
    }
    remaining -= out.length;
    await write(out);
  };
  const flushTail = async (): Promise<void> => {
    const lines = tail;
    tail = undefined;
    for (const l of lines ?? []) await emit(l);
  };

  let file: FileHandle | undefined;
  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  const openFile = async (p: string): Promise<{ ino: number }> => {
    file = await open(p, 'r');
    watcher?.close();
    try {
      watcher = watch(p, () => wake?.());
      watcher.on('error', () => {});
    } catch { watcher = undefined; }
    return { ino: (await file.stat()).ino };
  };

  try {
    let current = path;
    let { ino } = await openFile(current);
    let pos = 0;
    let carry: Buffer = Buffer.alloc(0);
    const buf = Buffer.alloc(CHUNK);

    /** Reads to the current end of the file; returns whether anything was read. */
    const drain = async (): Promise<boolean> => {
      let any = false;
      for (;;) {
        if (signal.aborted) return any;
        const { bytesRead } = await file!.read(buf, 0, CHUNK, pos);
        if (!bytesRead) return any;
        any = true;
        pos += bytesRead;
        let data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let start = 0;
        for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
          const entry = parseCriLogLine(data.subarray(start, nl));
          start = nl + 1;
          const l = entry && assembler.push(entry);
          if (l) await emit(l);
        }
        carry = Buffer.from(data.subarray(start));
        data = Buffer.alloc(0);
      }
    };
    /** The end of a log that will not grow: a last line without newline, pending partials. */
    const finish = async (): Promise<void> => {
      if (carry.length) {
        const entry = parseCriLogLine(carry);
        carry = Buffer.alloc(0);
        const l = entry && assembler.push(entry);
        if (l) await emit(l);
      }
      for (const l of assembler.flush()) await emit(l);
    };

    await drain();
    if (!opts.follow) {
      await finish();
      await flushTail();
      return;
    }
    await flushTail();
    const located = follow?.locate();
    const containerId = located?.containerId;
    for (;;) {
      if (signal.aborted) return;
      if (await drain()) continue;
      const now = follow?.locate();
      if (follow && (!now || now.containerId !== containerId || now.running === false)) {
        await drain();
        await finish();
        return;
      }
      const nextPath = now?.path ?? current;
      const st = await stat(nextPath).catch(() => undefined);
      if (st && (nextPath !== current || st.ino !== ino || st.size < pos)) {
        // Rotated, replaced or truncated: what was written to the old file is read; start the new one.
        await file!.close();
        file = undefined;
        current = nextPath;
        ({ ino } = await openFile(current));
        pos = 0;
        carry = Buffer.alloc(0);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, follow?.pollMs ?? 200);
        function done() { clearTimeout(timer); wake = undefined; resolve(); }
        wake = done;
        if (signal.aborted) done();
      });
    }
  } catch (err) {
    if (err instanceof LimitReached) return;
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
    watcher?.close();
    await file?.close();
  }
}
