// SPDY/3.1 framing (https://www.chromium.org/spdy/spdy-protocol/spdy-protocol-draft3-1):
// encoding and incremental decoding of control and data frames, and the zlib-compressed
// header blocks. What kubectl, the kubelet and containerd speak for exec, attach and
// port-forward (their Go side is moby/spdystream).
//
//   control frame: |1| version (15) | type (16) | flags (8) | length (24) | data
//   data frame:    |0| stream id (31)            | flags (8) | length (24) | data
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';

export const SPDY_VERSION = 3;
export const FrameType = {
  SynStream: 1, SynReply: 2, RstStream: 3, Settings: 4, Ping: 6, GoAway: 7, Headers: 8, WindowUpdate: 9,
} as const;
export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const DEFAULT_WINDOW = 64 * 1024;
/** SETTINGS id of the initial per-stream window. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** RST_STREAM status codes. */
export const RstStatus = { ProtocolError: 1, InvalidStream: 2, RefusedStream: 3, Cancel: 5, InternalError: 6, FlowControlError: 7 } as const;
const MAX_LENGTH = 0xffffff;

/** Header names are lower case; a name with several values joins them with NUL bytes. */
export type SpdyHeaders = Record<string, string[]>;

export type Frame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'synStream'; streamId: number; associatedId: number; priority: number; fin: boolean; unidirectional: boolean; headers: SpdyHeaders }
  | { type: 'synReply'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; clear: boolean; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastGoodStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number; flags: number; data: Buffer };

/**
 * One zlib stream over a session's whole life, sync-flushed per header block (as SPDY's
 * header compression needs: each block continues the previous one's context). Calls are
 * queued, so blocks come out in the order they went in.
 */
class ZlibContext {
  private out: Buffer[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private failed: Error | undefined;
  private rejectCurrent: ((err: Error) => void) | undefined;
  constructor(private readonly z: zlib.Deflate | zlib.Inflate) {
    z.on('data', (c: Buffer) => this.out.push(c));
    // A corrupt block fails this block and every later one (the context is lost).
    z.on('error', (err: Error) => { this.failed = err; this.rejectCurrent?.(err); });
  }
  process(input: Buffer): Promise<Buffer> {
    const run = () => new Promise<Buffer>((resolve, reject) => {
      if (this.failed) { reject(this.failed); return; }
      this.rejectCurrent = reject;
      this.z.write(input);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.rejectCurrent = undefined;
        if (this.failed) { reject(this.failed); return; }
        const b = Buffer.concat(this.out);
        this.out = [];
        resolve(b);
      });
    });
    const p = this.tail.then(run);
    this.tail = p.catch(() => undefined);
    return p;
  }
  close(): void { this.z.close(); }
}

/** One direction's header compression. */
export class HeaderCompressor {
  private readonly z = new ZlibContext(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION }));
  compress(headers: SpdyHeaders): Promise<Buffer> { return this.z.process(encodeHeaderBlock(headers)); }
  close(): void { this.z.close(); }
}

export class HeaderDecompressor {
  private readonly z = new ZlibContext(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }));
  async decompress(block: Buffer): Promise<SpdyHeaders> {
    if (!block.length) return {};
    return decodeHeaderBlock(await this.z.process(block));
  }
  close(): void { this.z.close(); }
}

/** The uncompressed header block: count, then (length, name, length, value) pairs, all lengths 32-bit. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const entries = Object.entries(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, values] of entries) {
    for (const s of [name.toLowerCase(), values.join('\0')]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(buf: Buffer): SpdyHeaders {
  const out: SpdyHeaders = {};
  let off = 0;
  const need = (n: number) => { if (off + n > buf.length) throw new Error('truncated SPDY header block'); };
  need(4);
  const count = buf.readUInt32BE(off); off += 4;
  for (let i = 0; i < count; i++) {
    need(4); const nl = buf.readUInt32BE(off); off += 4;
    need(nl); const name = buf.toString('utf8', off, off + nl); off += nl;
    need(4); const vl = buf.readUInt32BE(off); off += 4;
    need(vl); const value = buf.toString('utf8', off, off + vl); off += vl;
    (out[name.toLowerCase()] ??= []).push(...value.split('\0'));
  }
  return out;
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_LENGTH) throw new Error('SPDY frame too long');
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

const u32 = (...vals: number[]) => {
  const b = Buffer.alloc(4 * vals.length);
  vals.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
};

export function encodeData(streamId: number, data: Buffer, fin = false): Buffer {
  if (data.length > MAX_LENGTH) throw new Error('SPDY frame too long');
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24 | data.length) >>> 0, 4);
  return Buffer.concat([h, data]);
}

export async function encodeSynStream(c: HeaderCompressor, streamId: number, headers: SpdyHeaders, o: { fin?: boolean; unidirectional?: boolean; priority?: number; associatedId?: number } = {}): Promise<Buffer> {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  fixed.writeUInt32BE((o.associatedId ?? 0) & 0x7fffffff, 4);
  fixed[8] = ((o.priority ?? 0) & 7) << 5;
  fixed[9] = 0; // slot
  const flags = (o.fin ? FLAG_FIN : 0) | (o.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
  return control(FrameType.SynStream, flags, Buffer.concat([fixed, await c.compress(headers)]));
}

export async function encodeSynReply(c: HeaderCompressor, streamId: number, headers: SpdyHeaders, fin = false): Promise<Buffer> {
  return control(FrameType.SynReply, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), await c.compress(headers)]));
}
export const encodeRstStream = (streamId: number, status: number) => control(FrameType.RstStream, 0, u32(streamId & 0x7fffffff, status));
export const encodePing = (id: number) => control(FrameType.Ping, 0, u32(id));
export const encodeGoAway = (lastGoodStreamId: number, status = 0) => control(FrameType.GoAway, 0, u32(lastGoodStreamId & 0x7fffffff, status));
export const encodeWindowUpdate = (streamId: number, delta: number) => control(FrameType.WindowUpdate, 0, u32(streamId & 0x7fffffff, delta & 0x7fffffff));
export function encodeSettings(entries: { flags?: number; id: number; value: number }[], clear = false): Buffer {
  const b = Buffer.alloc(4 + 8 * entries.length);
  b.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    b.writeUInt32BE((((e.flags ?? 0) & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, 4 + 8 * i);
    b.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
  });
  return control(FrameType.Settings, clear ? 1 : 0, b);
}

/**
 * Incremental decoder: push() bytes as they arrive, get whole frames back (in order, also
 * across calls). Header blocks are decompressed in arrival order with the one context the
 * session's direction shares.
 */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly headers = new HeaderDecompressor()) {}

  push(chunk: Buffer): Promise<Frame[]> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const raw: Buffer[] = [];
    while (this.buf.length >= 8) {
      const length = this.buf.readUInt32BE(4) & MAX_LENGTH;
      if (this.buf.length < 8 + length) break;
      raw.push(this.buf.subarray(0, 8 + length));
      this.buf = this.buf.subarray(8 + length);
    }
    const p = this.tail.then(async () => {
      const out: Frame[] = [];
      for (const f of raw) out.push(await this.decode(f));
      return out;
    });
    this.tail = p.catch(() => undefined);
    return p;
  }

  close(): void { this.headers.close(); }

  private async decode(f: Buffer): Promise<Frame> {
    const flags = f[4]!;
    const p = f.subarray(8);
    const fin = (flags & FLAG_FIN) !== 0;
    if (!(f[0]! & 0x80)) return { type: 'data', streamId: f.readUInt32BE(0) & 0x7fffffff, fin, data: Buffer.from(p) };
    const version = f.readUInt16BE(0) & 0x7fff;
    if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`);
    const type = f.readUInt16BE(2);
    const id = () => p.readUInt32BE(0) & 0x7fffffff;
    switch (type) {
      case FrameType.SynStream:
        return { type: 'synStream', streamId: id(), associatedId: p.readUInt32BE(4) & 0x7fffffff, priority: p[8]! >> 5, fin, unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0, headers: await this.headers.decompress(p.subarray(10)) };
      case FrameType.SynReply:
        return { type: 'synReply', streamId: id(), fin, headers: await this.headers.decompress(p.subarray(4)) };
      case FrameType.Headers:
        return { type: 'headers', streamId: id(), fin, headers: await this.headers.decompress(p.subarray(4)) };
      case FrameType.RstStream:
        return { type: 'rstStream', streamId: id(), status: p.readUInt32BE(4) };
      case FrameType.Settings: {
        const n = p.readUInt32BE(0);
        const entries = [];
        for (let i = 0; i < n && 12 + 8 * i <= p.length; i++) {
          const w = p.readUInt32BE(4 + 8 * i);
          entries.push({ flags: w >>> 24, id: w & 0xffffff, value: p.readUInt32BE(8 + 8 * i) });
        }
        return { type: 'settings', clear: (flags & 1) !== 0, entries };
      }
      case FrameType.Ping:
        return { type: 'ping', id: p.readUInt32BE(0) };
      case FrameType.GoAway:
        return { type: 'goAway', lastGoodStreamId: id(), status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
      case FrameType.WindowUpdate:
        return { type: 'windowUpdate', streamId: id(), delta: p.readUInt32BE(4) & 0x7fffffff };
      default:
        return { type: 'unknown', frameType: type, flags, data: Buffer.from(p) };
    }
  }
}
