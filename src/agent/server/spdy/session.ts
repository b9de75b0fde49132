// A SPDY/3.1 client session over an upgraded connection: creates streams (SYN_STREAM, odd
// ids), sends and receives DATA (FIN half-closes), answers PINGs, honours SETTINGS, GOAWAY,
// RST_STREAM, and does flow control once the peer shows it does (a WINDOW_UPDATE or an
// initial-window SETTINGS): it then acknowledges consumed data with WINDOW_UPDATE (per stream
// and for the session, SPDY/3.1) and holds its own sends to the peer's windows.
// moby/spdystream, the Go side of kubectl, the kubelet and containerd, does neither: it never
// sends WINDOW_UPDATE and ignores those it gets. So against it nothing is held back (the
// default 64 KiB window would stall any upload beyond that, kubectl cp into a pod), and no
// WINDOW_UPDATE is sent either: containerd closes the connection right after writing the exit
// status, and a frame of ours arriving after that close makes its kernel reset the connection,
// which can lose the status before we read it.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_WINDOW, FrameParser, HeaderCompressor, RstStatus, SETTINGS_INITIAL_WINDOW_SIZE,
  encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSynStream, encodeWindowUpdate,
  type Frame, type SpdyHeaders,
} from './frames.ts';

const MAX_DATA_FRAME = 64 * 1024;

export interface SpdyStreamEvents {
  data: [Buffer];
  end: [];
  reset: [number];
  reply: [SpdyHeaders];
}

export class SpdyStream extends EventEmitter<SpdyStreamEvents> {
  /** Our half is closed (FIN sent or queued). */
  localClosed = false;
  remoteClosed = false;
  sendWindow: number;
  private unacked = 0;
  private pending: { data: Buffer; fin: boolean }[] = [];

  constructor(private readonly session: SpdyClientSession, readonly id: number, readonly headers: SpdyHeaders) {
    super();
    this.sendWindow = session.peerInitialWindow;
  }

  /** Sends data (split into frames, held back while the peer's window is closed). */
  write(data: Buffer): void {
    if (this.localClosed) return;
    for (let o = 0; o < data.length; o += MAX_DATA_FRAME) this.pending.push({ data: data.subarray(o, o + MAX_DATA_FRAME), fin: false });
    this.flush();
  }

  /** Half-closes our side: an empty DATA frame with FIN once everything before it is sent. */
  end(): void {
    if (this.localClosed) return;
    this.localClosed = true;
    this.pending.push({ data: Buffer.alloc(0), fin: true });
    this.flush();
  }

  reset(status: number = RstStatus.Cancel): void {
    this.pending = [];
    this.localClosed = this.remoteClosed = true;
    this.session.sendFrame(encodeRstStream(this.id, status));
  }

  /** The consumer has taken `n` bytes of received data: reopens the peer's window for them. */
  consumed(n: number): void {
    if (!this.session.peerFlowControl) return;
    this.unacked += n;
    if (this.unacked >= DEFAULT_WINDOW / 2) {
      this.session.sendFrame(encodeWindowUpdate(this.id, this.unacked));
      this.unacked = 0;
    }
    this.session.consumed(n);
  }

  /** @internal */
  flush(): void {
    while (this.pending.length) {
      const next = this.pending[0]!;
      let data = next.data;
      if (this.session.peerFlowControl && data.length) {
        const room = Math.min(this.sendWindow, this.session.sendWindow);
        if (room <= 0) return;
        if (data.length > room) { next.data = data.subarray(room); data = data.subarray(0, room); } else this.pending.shift();
        this.sendWindow -= data.length;
        this.session.sendWindow -= data.length;
      } else {
        this.pending.shift();
      }
      this.session.sendFrame(encodeData(this.id, data, next.fin && data === next.data));
    }
  }
}

export interface SpdySessionEvents {
  close: [Error | undefined];
}

export class SpdyClientSession extends EventEmitter<SpdySessionEvents> {
  readonly streams = new Map<number, SpdyStream>();
  /** Whether the peer does flow control (then our sends keep to its windows). */
  peerFlowControl = false;
  peerInitialWindow = DEFAULT_WINDOW;
  sendWindow = DEFAULT_WINDOW;
  closed = false;
  private nextId = 1;
  private unacked = 0;
  private readonly compressor = new HeaderCompressor();
  private readonly parser = new FrameParser();
  private out: Promise<unknown> = Promise.resolve();

  constructor(readonly socket: Duplex, head?: Buffer) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // Frames already read are handled first (their header blocks decompress asynchronously):
    // a peer that closes right after its last frames (containerd writes the status, then closes,
    // possibly with a reset if our WINDOW_UPDATEs were still unread) must not lose them.
    const ended = (err?: Error) => {
      this.parser.push(Buffer.alloc(0)).then(() => this.close(err), (e) => this.close(e));
    };
    socket.on('error', (err) => ended(err));
    socket.on('close', () => ended());
    socket.on('end', () => ended());
    if (head?.length) this.receive(head);
  }

  /** Opens a stream (SYN_STREAM); its 'reply' event carries the SYN_REPLY headers. */
  createStream(headers: SpdyHeaders): SpdyStream {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    this.sendFrame(encodeSynStream(this.compressor, id, headers));
    return stream;
  }

  /** Queues a frame; frames go out in the order they were queued (header blocks compress asynchronously). */
  sendFrame(frame: Buffer | Promise<Buffer>): void {
    if (this.closed) return;
    const p = Promise.resolve(frame);
    this.out = this.out.then(() => p).then((b) => { if (!this.closed && !this.socket.destroyed) this.socket.write(b); }, (err) => this.close(err));
  }

  /** True while the connection's write buffer is full ('drain' on the socket says when it is not). */
  get backedUp(): boolean { return (this.socket as Duplex & { writableNeedDrain?: boolean }).writableNeedDrain === true; }

  /** @internal session-level acknowledgement (SPDY/3.1: stream 0). */
  consumed(n: number): void {
    if (!this.peerFlowControl) return;
    this.unacked += n;
    if (this.unacked >= DEFAULT_WINDOW / 2) {
      this.sendFrame(encodeWindowUpdate(0, this.unacked));
      this.unacked = 0;
    }
  }

  /** Says goodbye (GOAWAY) and closes the connection. */
  goAway(): void {
    if (this.closed) return;
    this.sendFrame(encodeGoAway(0));
    this.out = this.out.then(() => this.socket.end());
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.compressor.close();
    this.parser.close();
    this.socket.destroy();
    for (const s of this.streams.values()) {
      if (!s.remoteClosed) { s.remoteClosed = true; s.emit('end'); }
    }
    this.emit('close', err);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.parser.push(chunk).then((frames) => { for (const f of frames) this.handle(f); }, (err) => this.close(err));
  }

  private handle(f: Frame): void {
    if (this.closed) return;
    switch (f.type) {
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s || s.remoteClosed) {
          this.sendFrame(encodeRstStream(f.streamId, RstStatus.InvalidStream));
          this.consumed(f.data.length);
          return;
        }
        if (f.data.length) s.emit('data', f.data);
        if (f.fin) this.remoteEnd(s);
        return;
      }
      case 'synReply': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.emit('reply', f.headers);
        if (f.fin) this.remoteEnd(s);
        return;
      }
      case 'headers': {
        const s = this.streams.get(f.streamId);
        if (s && f.fin) this.remoteEnd(s);
        return;
      }
      case 'synStream':
        // The remotecommand and port-forward protocols never have the server open streams.
        this.sendFrame(encodeRstStream(f.streamId, RstStatus.RefusedStream));
        return;
      case 'rstStream': {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        this.streams.delete(f.streamId);
        s.localClosed = true;
        if (!s.remoteClosed) { s.remoteClosed = true; s.emit('reset', f.status); s.emit('end'); }
        return;
      }
      case 'settings':
        for (const e of f.entries) {
          if (e.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = e.value - this.peerInitialWindow;
          this.peerInitialWindow = e.value;
          this.peerFlowControl = true;
          for (const s of this.streams.values()) s.sendWindow += delta;
        }
        this.flushAll();
        return;
      case 'windowUpdate':
        this.peerFlowControl = true;
        if (f.streamId === 0) this.sendWindow += f.delta;
        else { const s = this.streams.get(f.streamId); if (s) s.sendWindow += f.delta; }
        this.flushAll();
        return;
      case 'ping':
        // Even ids are the server's: echo them. Odd ones would be answers to ours (we send none).
        if (f.id % 2 === 0) this.sendFrame(encodePing(f.id));
        return;
      case 'goAway':
        // No new streams; the ones open finish, then the server closes the connection.
        return;
      default:
        return;
    }
  }

  private remoteEnd(s: SpdyStream): void {
    if (s.remoteClosed) return;
    s.remoteClosed = true;
    if (s.localClosed) this.streams.delete(s.id);
    s.emit('end');
  }

  private flushAll(): void { for (const s of this.streams.values()) s.flush(); }
}
