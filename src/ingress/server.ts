// The HTTP side of the Ingress controller: a reverse proxy that asks a Router where each
// request goes and forwards it over a keep-alive pool to the chosen endpoint. 404 when no
// rule matches, 503 when the backend has no ready endpoint, 502 when the endpoint cannot
// be reached. Adds X-Forwarded-For/-Proto/-Host/-Port and X-Real-Ip; passes WebSocket
// (and any other Upgrade) connections through as raw TCP after the handshake.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../util/log.ts';
import type { Decision } from './router.ts';

export interface RequestRouter {
  decide(host: string | undefined, path: string): Decision;
}

export interface IngressServerOptions {
  host: string;
  port: number;
  router: RequestRouter;
  log: Logger;
  /** How long to wait for an endpoint's TCP connection (default 5 s). */
  connectTimeoutMs?: number;
}

export interface IngressServer {
  port: number;
  close(): Promise<void>;
}

// RFC 9110 §7.6.1: connection-specific headers a proxy must not forward.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export async function startIngressServer(opts: IngressServerOptions): Promise<IngressServer> {
  const { router, log } = opts;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const pool = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, timeout: 60_000 });
  const server = http.createServer();
  let listenPort = opts.port;

  server.on('request', (req, res) => {
    const d = router.decide(req.headers.host, pathOf(req.url));
    if (d.kind !== 'proxy') { answer(res, d); return; }
    forward(req, res, d, 0);
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse, d: Extract<Decision, { kind: 'proxy' }>, attempt: number): void {
    const { ip, port } = d.endpoint;
    const out = http.request({
      host: ip, port, method: req.method, path: pathOf(req.url), agent: pool,
      headers: forwardedHeaders(req, listenPort, false),
      // Lenient with what endpoints answer, as Go's net/http (Traefik) is: CGI scripts
      // (busybox httpd's among them) end header lines with a bare LF. Clients still get
      // the strict parser.
      insecureHTTPParser: true,
    });
    const connectTimer = setTimeout(() => out.destroy(Object.assign(new Error(`connect to ${ip}:${port} timed out`), { code: 'ETIMEDOUT' })), connectTimeoutMs);
    out.on('socket', (socket) => {
      if (!(socket as net.Socket).connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    out.on('response', (up) => {
      clearTimeout(connectTimer);
      const headers: http.OutgoingHttpHeaders = {};
      const drop = connectionTokens(up.headers.connection);
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !drop.has(k)) headers[k] = v;
      res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    out.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      // A kept-alive socket the endpoint closed meanwhile: retry a body-less request once.
      if (attempt === 0 && out.reusedSocket && err.code === 'ECONNRESET' && !res.headersSent && !hasBody(req)) { forward(req, res, d, 1); return; }
      log.debug('ingress backend error', { endpoint: `${ip}:${port}`, ingress: d.route.ingress, error: err.message });
      if (!res.headersSent) { res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }); res.end('Bad Gateway\n'); } else res.destroy();
    });
    res.on('close', () => { if (!res.writableFinished) out.destroy(); });
    if (attempt === 0) req.pipe(out); else out.end();
  }

  // Upgraded connections leave the HTTP server's bookkeeping; close() ends them itself.
  const tunnels = new Set<Duplex>();
  server.on('upgrade', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => {});
    tunnels.add(client);
    client.on('close', () => tunnels.delete(client));
    const d = router.decide(req.headers.host, pathOf(req.url));
    if (d.kind !== 'proxy') {
      const [status, text] = d.kind === 'notFound' ? [404, 'Not Found'] : [503, 'Service Unavailable'];
      client.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const { ip, port } = d.endpoint;
    const upstream = net.connect({ host: ip, port });
    upstream.setTimeout(connectTimeoutMs, () => upstream.destroy(new Error('connect timed out')));
    upstream.on('connect', () => {
      upstream.setTimeout(0);
      const headers = forwardedHeaders(req, listenPort, true);
      let text = `${req.method} ${pathOf(req.url)} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) text += `${k}: ${one}\r\n`;
      upstream.write(`${text}\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (err) => {
      log.debug('ingress upgrade backend error', { endpoint: `${ip}:${port}`, error: err.message });
      if (upstream.bytesRead === 0 && client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      else client.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => { server.off('error', reject); resolve(); });
  });
  listenPort = (server.address() as net.AddressInfo).port;
  return {
    port: listenPort,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const t of tunnels) t.destroy();
      pool.destroy();
    }),
  };
}

function answer(res: http.ServerResponse, d: Exclude<Decision, { kind: 'proxy' }>): void {
  // Traefik's bodies: "404 page not found", "no available server".
  const [status, body] = d.kind === 'notFound' ? [404, '404 page not found\n'] : [503, 'no available server\n'];
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-skiff-reason': d.kind === 'unavailable' ? d.reason.replace(/[^\x20-\x7e]/g, '?') : 'no matching rule' });
  res.end(body);
}

/** The request target as a path: absolute-form (`http://host/p`) is reduced to its path. */
function pathOf(url: string | undefined): string {
  if (!url) return '/';
  if (url.startsWith('/')) return url;
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return '/';
  }
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  return new Set(String(value ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** The request's headers for the endpoint: hop-by-hop ones dropped (kept for an upgrade), X-Forwarded-* set. */
function forwardedHeaders(req: http.IncomingMessage, listenPort: number, upgrade: boolean): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  const drop = upgrade ? new Set<string>() : connectionTokens(req.headers.connection);
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || drop.has(k)) continue;
    if (HOP_BY_HOP.has(k) && !(upgrade && (k === 'connection' || k === 'upgrade'))) continue;
    headers[k] = v;
  }
  const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  headers['x-forwarded-proto'] = upgrade && /websocket/i.test(String(req.headers.upgrade ?? '')) ? 'ws' : 'http';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  headers['x-forwarded-port'] = String(listenPort);
  headers['x-real-ip'] = client;
  return headers;
}
