// WebSocket v5.channel.k8s.io (kubectl ≥ 1.30's exec and attach) translated to SPDY/3.1
// towards the container runtime's streaming server, as kube-apiserver's StreamTranslatorProxy
// does (k8s.io/apiserver/pkg/util/proxy/streamtranslator.go): the agent terminates the
// WebSocket and is itself a remotecommand v4 SPDY client of containerd (which speaks v4 and
// older, SPDY and WebSocket, but not v5). SPDY has a stream per channel, so v5's close
// message (`[255, 0]`: no more stdin) becomes a FIN on the stdin stream while the output
// keeps flowing — what a v4 WebSocket towards the runtime cannot express.
//
//   WebSocket channel          SPDY stream (streamType header)
//   0 stdin            →       stdin (DATA)
//   1 stdout, 2 stderr ←       stdout, stderr
//   3 error/status     ←       error (the v4 status JSON, passed on as it is)
//   4 resize           →       resize (JSON {"Width":..,"Height":..})
//   255 close [0]      →       stdin FIN (half-close)
//
// The WebSocket is closed (1000) once the SPDY session ends, after the status.
//
// Also kubectl's port-forward tunnel (`SPDY/3.1+portforward.k8s.io`): SPDY bytes in binary
// WebSocket messages, spliced to a plain SPDY upgrade to the runtime (tunnelPortForward).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../util/log.ts';
import { connectTo, offeredWebSocketProtocols } from '../../util/upgrade-proxy.ts';
import { SpdyClientSession, type SpdyStream } from './spdy/session.ts';
import type { StreamFlags } from './types.ts';

export const V5_PROTOCOL = 'v5.channel.k8s.io';
/** The remotecommand protocol spoken to the runtime over SPDY. */
export const RUNTIME_PROTOCOL = 'v4.channel.k8s.io';
const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;
/** Output bytes sent on the WebSocket but not yet written out before reading from the runtime pauses. */
const HIGH_WATER = 1 << 20;

/** True when the client offers v5 (kube-apiserver translates then too, whatever else is offered). */
export function wantsV5(req: IncomingMessage): boolean {
  return offeredWebSocketProtocols(req).includes(V5_PROTOCOL);
}

/** How many sessions were translated, for tests and metrics. */
export const translatorStats = { sessions: 0, active: 0, tunnels: 0 };

/** kubectl ≥ 1.31's port-forward: SPDY carried in the binary messages of a WebSocket (client-go tools/portforward/tunneling_dialer.go). */
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** True when the client offers the SPDY-over-WebSocket port-forward tunnel. */
export function wantsPortForwardTunnel(req: IncomingMessage): boolean {
  return offeredWebSocketProtocols(req).includes(PORT_FORWARD_TUNNEL_PROTOCOL);
}

// ws only accepts RFC 7230 tokens as subprotocols, and the tunnel's has a '/': the offer is
// renamed for ws's handshake and the real name put back into the 101's headers.
const TUNNEL_TOKEN = 'SPDY-3.1+portforward.k8s.io';
// Loaded at the first WebSocket session: an idle agent does not carry the library.
let wssPromise: Promise<WebSocketServer> | undefined;
function webSocketServer(): Promise<WebSocketServer> {
  wssPromise ??= import('ws').then(({ WebSocketServer }) => {
    const wss = new WebSocketServer({
      noServer: true, perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(V5_PROTOCOL) ? V5_PROTOCOL : offered.has(TUNNEL_TOKEN) ? TUNNEL_TOKEN : false),
    });
    wss.on('headers', (headers) => {
      const i = headers.indexOf(`Sec-WebSocket-Protocol: ${TUNNEL_TOKEN}`);
      if (i >= 0) headers[i] = `Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL_PROTOCOL}`;
    });
    return wss;
  });
  return wssPromise;
}

export class UpstreamError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

/** The upgrade request line and headers for a SPDY/3.1 remotecommand session at `target`. */
export function spdyUpgradeRequest(target: URL, protocol = RUNTIME_PROTOCOL): string {
  return [
    `POST ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, 'Connection: Upgrade', 'Upgrade: SPDY/3.1',
    `X-Stream-Protocol-Version: ${protocol}`, 'User-Agent: skiff-agent', 'Content-Length: 0',
  ].join('\r\n') + '\r\n\r\n';
}

/**
 * Reads the answer to an upgrade request: resolves with the bytes after the head once the
 * peer switched protocols, rejects with its status and body otherwise.
 */
export function readUpgradeResponse(socket: Duplex, timeoutMs = 10_000): Promise<{ headers: Record<string, string>; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error, v?: { headers: Record<string, string>; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) reject(err); else resolve(v!);
    };
    const timer = setTimeout(() => done(new UpstreamError(504, 'the container runtime did not answer the upgrade')), timeoutMs);
    const onError = (err: Error) => done(err);
    const onClose = () => done(new UpstreamError(502, `the container runtime closed the connection: ${buf.toString('utf8').slice(0, 500)}`));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      if (status === 101) { socket.pause(); done(undefined, { headers, rest: buf.subarray(end + 4) }); return; }
      // Not upgraded: the body says why (containerd answers errors as text).
      const body = buf.subarray(end + 4);
      const len = Number(headers['content-length'] ?? NaN);
      if (Number.isFinite(len) && body.length < len) return;
      done(new UpstreamError(status >= 400 && status < 600 ? status : 502, `the container runtime refused the upgrade (${lines[0]}): ${body.toString('utf8').trim()}`));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

const failure = (message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 });

/**
 * Serves a WebSocket v5 exec or attach (`req` on `socket`, `head` already read) by opening a
 * SPDY remotecommand session at the runtime's streaming URL `target`. Rejects — before the
 * client's connection is touched, so the caller can still answer with an error — when the
 * runtime cannot be reached or refuses the upgrade.
 */
/** Connects to the runtime and upgrades to SPDY/3.1 with `protocol`; resolves with the socket and the bytes read past the 101. */
async function spdyUpgrade(target: URL, protocol: string): Promise<{ upstream: import('node:net').Socket; rest: Buffer }> {
  const upstream = await connectTo(target);
  upstream.setNoDelay(true);
  try {
    upstream.write(spdyUpgradeRequest(target, protocol));
    const answer = await readUpgradeResponse(upstream);
    const chosen = answer.headers['x-stream-protocol-version'];
    if (chosen !== protocol) throw new UpstreamError(502, `the container runtime chose streaming protocol ${JSON.stringify(chosen ?? '')}, not ${protocol}`);
    return { upstream, rest: answer.rest };
  } catch (err) {
    upstream.destroy();
    throw err;
  }
}

/** Completes the client's WebSocket handshake; undefined when it failed (ws has answered it). */
async function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket | undefined> {
  if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') (socket as import('node:net').Socket).setNoDelay(true);
  const closed = new Promise<undefined>((resolve) => socket.once('close', () => resolve(undefined)));
  const wss = await webSocketServer();
  return Promise.race([closed, new Promise<WebSocket>((resolve) => wss.handleUpgrade(req, socket, head, (w) => resolve(w)))]);
}

/**
 * kubectl's tunnelled port-forward (`SPDY/3.1+portforward.k8s.io`): the WebSocket's binary
 * messages carry a SPDY byte stream (client-go's TunnelingConnection), so the agent opens a
 * plain SPDY `portforward.k8s.io` upgrade to the runtime and splices the two, message framing
 * ↔ bytes, as kube-apiserver's tunneling handler does (k8s.io/apiserver/pkg/util/proxy/streamtunnel.go).
 */
export async function tunnelPortForward(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, log: Logger): Promise<void> {
  const { upstream, rest } = await spdyUpgrade(target, PORT_FORWARD_PROTOCOL);
  req.headers['sec-websocket-protocol'] = TUNNEL_TOKEN;
  const ws = await acceptWebSocket(req, socket, head);
  if (!ws) { upstream.destroy(); return; }
  translatorStats.tunnels++;
  log.debug('port-forward: SPDY tunnelled in a WebSocket, passed on as SPDY');
  let inFlight = 0;
  const toClient = (d: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    inFlight += d.length;
    if (inFlight > HIGH_WATER) upstream.pause();
    ws.send(d, () => { inFlight -= d.length; if (inFlight <= HIGH_WATER / 2 && upstream.isPaused()) upstream.resume(); });
  };
  if (rest.length) toClient(rest);
  upstream.on('data', toClient);
  upstream.resume();
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    if (!upstream.write(data)) { ws.pause(); upstream.once('drain', () => ws.resume()); }
  });
  const closeWs = () => { if (ws.readyState === ws.OPEN) ws.close(1000); };
  upstream.on('end', closeWs);
  upstream.on('close', closeWs);
  upstream.on('error', () => { ws.terminate(); });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => upstream.end());
}

export async function translateV5(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, flags: StreamFlags, log: Logger): Promise<void> {
  const { upstream, rest } = await spdyUpgrade(target, RUNTIME_PROTOCOL);
  const session = new SpdyClientSession(upstream, rest);
  // Nothing is read from the runtime until the listeners below are attached: its streams are
  // event emitters, and a quick command's output and status (which containerd sends as soon
  // as the streams exist) would otherwise be emitted, and lost, during the WebSocket handshake.
  upstream.pause();

  // The error stream first, as client-go's v2+ protocols do; then the others the session has.
  const open = (type: string) => session.createStream({ streamtype: [type] });
  const error = open('error');
  const stdin = flags.stdin ? open('stdin') : undefined;
  const stdout = flags.stdout ? open('stdout') : undefined;
  const stderr = flags.stderr && !flags.tty ? open('stderr') : undefined;
  const resize = flags.tty ? open('resize') : undefined;

  const ws = await acceptWebSocket(req, socket, head);
  if (!ws) { session.close(); return; }
  translatorStats.sessions++;
  translatorStats.active++;
  log.debug('exec/attach: WebSocket v5 translated to SPDY', { path: target.pathname.replace(/\/[^/]*$/, '/…') });

  // Runtime → client, with backpressure: reading from the runtime pauses while the WebSocket
  // has too much unsent, and data is acknowledged (WINDOW_UPDATE) once it is written out.
  let inFlight = 0;
  const forward = (channel: number, from: SpdyStream) => {
    from.on('data', (d) => {
      if (ws.readyState !== ws.OPEN) return;
      inFlight += d.length;
      if (inFlight > HIGH_WATER) upstream.pause();
      ws.send(Buffer.concat([Buffer.of(channel), d]), (err) => {
        inFlight -= d.length;
        if (!err) from.consumed(d.length);
        if (inFlight <= HIGH_WATER / 2 && upstream.isPaused()) upstream.resume();
      });
    });
  };
  if (stdout) forward(CH.stdout, stdout);
  if (stderr) forward(CH.stderr, stderr);
  const status: Buffer[] = [];
  error.on('data', (d) => { status.push(d); error.consumed(d.length); });
  let statusSent = false;
  const sendStatus = () => {
    if (statusSent || ws.readyState !== ws.OPEN) return;
    statusSent = true;
    const body = status.length ? Buffer.concat(status) : Buffer.from(failure('the container runtime ended the session without a status'));
    ws.send(Buffer.concat([Buffer.of(CH.error), body]));
  };
  error.on('end', sendStatus);
  session.on('close', (err) => {
    if (err) log.debug('exec/attach: SPDY session to the runtime failed', { error: String(err) });
    sendStatus();
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
  upstream.resume();

  // Client → runtime.
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary && !Buffer.isBuffer(data)) return;
    const msg = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    if (!msg.length) return;
    const payload = msg.subarray(1);
    switch (msg[0]) {
      case CH.stdin:
        if (!stdin || !payload.length) return;
        stdin.write(payload);
        if (session.backedUp) { ws.pause(); upstream.once('drain', () => ws.resume()); }
        return;
      case CH.resize:
        resize?.write(payload);
        return;
      case CH.close:
        if (payload[0] === CH.stdin) stdin?.end();
        return;
      default:
        return; // v5 clients write nothing else
    }
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    translatorStats.active--;
    // The client is gone: end the runtime session (an exec's stdin and output close with it).
    if (!session.closed) session.goAway();
    setTimeout(() => session.close(), 1000).unref();
  });
}
