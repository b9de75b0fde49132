// Transparent pass-through of an HTTP upgrade (SPDY/3.1 for exec, attach, port-forward):
// open a connection to the target, send the upgrade request for the target's path with the
// client's upgrade headers, then pipe bytes both ways, the target's 101 (or its refusal)
// included. Neither side's protocol is interpreted, so SPDY streams, flow control and
// the remotecommand sub-protocol (X-Stream-Protocol-Version) stay end to end.
//
// Used twice: API server → agent (https, with the API server's client certificate) and
// agent → containerd's CRI streaming server (plain http on the loopback).
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Headers carried to the target: what the upgrade handshake needs, nothing that authenticates. */
const FORWARDED = new Set(['connection', 'upgrade', 'x-stream-protocol-version', 'user-agent', 'content-length', 'content-type']);

export interface UpgradeTargetOptions {
  /** For https targets: a client certificate to present, and the CA (omitted: the server's certificate is not verified). */
  tls?: { certPem?: string; keyPem?: string; caPem?: string };
  /** Fails the connection attempt after this long (default 10 s). */
  connectTimeoutMs?: number;
}

/** The request line and headers sent to the target. */
export function upgradeRequestHead(req: IncomingMessage, target: URL): string {
  const lines = [`${req.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (FORWARDED.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Connects to `target` (http: or https:); resolves once the connection is ready for bytes. */
export function connectTo(target: URL, opts: UpgradeTargetOptions = {}): Promise<net.Socket> {
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const secure = target.protocol === 'https:';
    const socket: net.Socket = secure
      ? tls.connect({
        host, port, servername: net.isIP(host) ? undefined : host,
        cert: opts.tls?.certPem, key: opts.tls?.keyPem, ca: opts.tls?.caPem,
        rejectUnauthorized: opts.tls?.caPem !== undefined,
        ALPNProtocols: ['http/1.1'],
      })
      : net.connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`timed out connecting to ${target.host}`)), opts.connectTimeoutMs ?? 10_000);
    socket.once(secure ? 'secureConnect' : 'connect', () => { clearTimeout(timer); socket.off('error', onError); resolve(socket); });
    const onError = (err: Error) => { clearTimeout(timer); reject(err); };
    socket.once('error', onError);
  });
}

/** Joins two sockets; either one ending or failing closes the other. */
export function splice(a: Duplex, b: Duplex): void {
  const close = () => { a.destroy(); b.destroy(); };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
  a.pipe(b);
  b.pipe(a);
}

/**
 * Passes the upgrade request `req` (whose connection is `socket`, with `head` already read
 * from it) through to `target`. Rejects if the target cannot be reached, before anything was
 * written to `socket`, so the caller can still answer with an error.
 */
export async function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, opts: UpgradeTargetOptions = {}): Promise<void> {
  const upstream = await connectTo(target, opts);
  upstream.setNoDelay(true);
  if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') (socket as net.Socket).setNoDelay(true);
  upstream.write(upgradeRequestHead(req, target));
  if (head.length) upstream.write(head);
  splice(socket, upstream);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** Answers on a raw socket (an upgrade request that will not be upgraded) and closes it. */
export function writeRawResponse(socket: Duplex, code: number, contentType: string, body: string): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${code} ${REASONS[code] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Cache-Control: no-cache, private\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** True when the request asks for a WebSocket (as opposed to SPDY/3.1). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase().split(',').some((p) => p.trim() === 'websocket');
}
