// Transparent pass-through of an HTTP upgrade (SPDY/3.1, or a WebSocket with a channel
// protocol the container runtime speaks or the agent translates, for exec, attach,
// port-forward): open a connection
// to the target, send the upgrade request for the target's path with the client's upgrade
// headers, then pipe bytes both ways, the target's 101 (or its refusal) included. Neither
// side's protocol is interpreted, so SPDY streams, flow control, WebSocket frames and the
// remotecommand sub-protocol (X-Stream-Protocol-Version, Sec-WebSocket-Protocol) stay end
// to end.
//
// Used twice: API server → agent (https, with the API server's client certificate) and
// agent → containerd's CRI streaming server (plain http on the loopback). Both hops decide
// with `websocketRefusal` which WebSocket upgrades the runtime can take (see
// src/agent/server/README.md for the upstream sources).
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Headers carried to the target: what the upgrade handshake needs, nothing that authenticates. */
const FORWARDED = new Set([
  'connection', 'upgrade', 'x-stream-protocol-version', 'user-agent', 'content-length', 'content-type',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions',
]);

/**
 * The WebSocket subprotocol that carries a bearer token for clients that cannot set headers
 * (browsers); kube-apiserver's authenticator reads it. Never passed on.
 */
const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

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
  // One Sec-WebSocket-Protocol line, however many the client sent: Go's x/net/websocket (what
  // containerd's streaming server uses) reads only the first.
  const protocols = offeredWebSocketProtocols(req).filter((p) => !p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (protocols.length) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(', ')}`);
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

/** Every subprotocol the client offers, in its order, from all Sec-WebSocket-Protocol lines. */
export function offeredWebSocketProtocols(req: IncomingMessage): string[] {
  const out: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'sec-websocket-protocol') continue;
    for (const p of raw[i + 1]!.split(',')) if (p.trim()) out.push(p.trim());
  }
  return out;
}

export type StreamKind = 'exec' | 'attach' | 'portforward';

/**
 * The WebSocket subprotocols containerd's CRI streaming server (1.6, pkg/cri/streaming, the
 * kubelet's streaming server copied) accepts; "" stands for no Sec-WebSocket-Protocol at all.
 * exec and attach: remotecommand/websocket.go createWebSocketStreams; port-forward:
 * portforward/websocket.go handleWebSocketStreams. Not v5.channel.k8s.io (kubectl ≥ 1.30's
 * only offer), not v1–v3.channel.k8s.io (SPDY protocol versions, never WebSocket ones), not
 * SPDY/3.1+portforward.k8s.io (kubectl ≥ 1.31's tunnelled port-forward).
 */
export const RUNTIME_WEBSOCKET_PROTOCOLS: Readonly<Record<StreamKind, readonly string[]>> = {
  exec: ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io', ''],
  attach: ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io', ''],
  portforward: ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', ''],
};

/**
 * The WebSocket subprotocols the agent serves itself, translating to SPDY towards the runtime
 * (src/agent/server/stream-translator.ts): v5 for exec and attach, whenever it is offered, and
 * kubectl's SPDY-in-WebSocket port-forward tunnel (which needs no ports in the query).
 */
export const TRANSLATED_WEBSOCKET_PROTOCOLS: Readonly<Record<StreamKind, readonly string[]>> = {
  exec: ['v5.channel.k8s.io'],
  attach: ['v5.channel.k8s.io'],
  portforward: ['SPDY/3.1+portforward.k8s.io'],
};

/**
 * Why a WebSocket upgrade for `kind` cannot be served, or undefined when it can: it can when
 * the client offers v5 (exec, attach: the agent translates it to SPDY), or at least one
 * subprotocol the runtime speaks (passed through; the runtime then picks the first of the
 * client's offers it knows, as wsstream's handshake does), or none at all. A refusal must be
 * a non-101 answer so that kubectl falls back to SPDY.
 */
export function websocketRefusal(req: IncomingMessage, kind: StreamKind): string | undefined {
  const offered = offeredWebSocketProtocols(req).filter((p) => !p.startsWith(BEARER_PROTOCOL_PREFIX));
  const known = [...RUNTIME_WEBSOCKET_PROTOCOLS[kind], ...TRANSLATED_WEBSOCKET_PROTOCOLS[kind]];
  if (offered.length === 0 || offered.some((p) => known.includes(p))) return undefined;
  const speaks = RUNTIME_WEBSOCKET_PROTOCOLS[kind].filter(Boolean).join(', ');
  return `WebSocket subprotocol(s) ${offered.join(', ')} not supported for ${kind} by the container runtime ` +
    `(it speaks ${speaks} over WebSocket, and SPDY/3.1); upgrade refused so that the client falls back to SPDY`;
}
