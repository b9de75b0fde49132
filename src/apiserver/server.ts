// The HTTPS front door: authentication, then routing to health, version, discovery,
// OpenAPI or resource handlers. Every failure leaves here as a Kubernetes Status.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { openapiV3DocumentBytes, openapiV3Index } from '../api/openapi/index.ts';
import { ApiError, datastoreUnavailable, internalError, methodNotAllowed, unauthorized } from './errors.ts';
import { DatastoreUnavailableError } from '../store/etcd/errors.ts';
import { negotiate } from './http/negotiate.ts';
import { decodeBody, readBody } from './http/body.ts';
import { send, sendError, sendRaw } from './http/respond.ts';
import { aggregatedContentType, aggregatedDiscovery, apiGroupFor, apiGroupList, apiResourceList, apiVersions } from './discovery.ts';
import { notFoundPath, parseResourcePath } from './request-info.ts';
import { handleResource } from './handlers/resource.ts';
import { handlePodStreamUpgrade, isPodStreamRequest, refuseUpgrade, type KubeletClientConfig } from './handlers/pod-streams.ts';
import type { Registry } from './registry/registry.ts';
import { isMetricsPath, serveMetricsApi } from './metrics/api.ts';
import { closerFor } from '../util/close-server.ts';
import type { ResourceMetricsSource } from './metrics/types.ts';
import type { RequestAuthenticator } from './authn/types.ts';
import type { ServiceAccountTokenIssuer } from './serviceaccount/token-issuer.ts';
import { SELF_SUBJECT_REVIEW_PATH, selfSubjectReview } from './serviceaccount/self-subject-review.ts';
import type { Logger } from '../util/log.ts';
import { InflightLimiter, isLongRunning, poolOf, type InflightLimits } from './http/inflight.ts';
import type { AuditLog } from './audit/log.ts';
import { auditRequest } from './audit/http.ts';
import { impersonatedUser } from './authn/impersonation.ts';
import { ANONYMOUS, offersCredentials } from './authn/anonymous.ts';
import { admitConnect } from './admission/webhook/connect.ts';
import { answerReview, authorizeRequest, registryFor, reviewOf, type Authorization } from './authz/index.ts';

export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-skiff' };

export interface ApiServerOptions {
  registry: Registry;
  tls: { cert: string; key: string; ca: string };
  authenticate: RequestAuthenticator;
  /** Signs TokenRequests (serviceaccounts/token); without it the subresource answers 404. */
  tokenIssuer?: ServiceAccountTokenIssuer;
  host: string;
  port: number;
  /** Whether /readyz answers ok (e.g. after default namespaces exist). */
  ready: () => boolean;
  log: Logger;
  skiffVersion: string;
  bookmarkIntervalMs?: number;
  /**
   * The client certificate presented to node agents for pods/log, exec, attach and
   * portforward (any certificate the cluster CA signed for client auth; the admin one for now).
   */
  kubeletClient?: KubeletClientConfig;
  /** Serves metrics.k8s.io/v1beta1 from this source (the node scraper, see metrics/). */
  metrics?: ResourceMetricsSource;
  /** Bounds on requests served at once (overload protection); default Kubernetes' 400/200. */
  inflight?: InflightLimits;
  /** Where audit events go, by policy (--audit-policy-file, --audit-log-path). */
  audit?: AuditLog;
  /** Who may do what (system:masters, then RBAC; see authz/). Without it every authenticated user may do everything. */
  authorization?: Authorization;
}

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const OPEN_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const limiter = new InflightLimiter(opts.inflight);
  const server = https.createServer({
    cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca,
    requestCert: true, rejectUnauthorized: false,
    keepAlive: true,
  }, (req, res) => {
    handle(opts, limiter, req, res).catch((err) => fail(opts, req, res, err));
  });
  const closeServer = closerFor(server);
  // Connection upgrades (exec, attach, port-forward) arrive here, not as requests.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    handleUpgrade(opts, req, socket, head).catch((err) => failUpgrade(opts, req, socket, err));
  });
  // Requests Node's HTTP parser refuses (bad method, malformed headers) still get a Status.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return; }
    const body = JSON.stringify(new ApiError(400, 'BadRequest', `malformed HTTP request: ${err.code ?? err.message}`).toStatus());
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0; // watches are long-lived
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: closeServer,
  };
}

function fail(opts: ApiServerOptions, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  let apiErr: ApiError;
  if (err instanceof ApiError) {
    apiErr = err;
  } else if (err instanceof DatastoreUnavailableError) {
    apiErr = datastoreUnavailable(err.message, err.timeout); // no stack: etcd lost quorum, not a bug
  } else {
    opts.log.error('request failed', { method: req.method, url: req.url, error: (err as Error)?.stack ?? String(err) });
    apiErr = internalError((err as Error)?.message ?? String(err));
  }
  if (res.headersSent) { res.end(); return; }
  sendError(res, apiErr);
}

function failUpgrade(opts: ApiServerOptions, req: IncomingMessage, socket: Duplex, err: unknown): void {
  if (!(err instanceof ApiError)) {
    opts.log.error('upgrade request failed', { method: req.method, url: req.url, error: (err as Error)?.stack ?? String(err) });
  }
  refuseUpgrade(socket, err instanceof ApiError ? err : internalError((err as Error)?.message ?? String(err)));
}

/** An upgrade request: authenticated like any other, then only the pod streams may upgrade. */
async function handleUpgrade(opts: ApiServerOptions, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const authenticated = await opts.authenticate(req) ?? (opts.authorization && !offersCredentials(req) ? ANONYMOUS : undefined);
  if (!authenticated) throw unauthorized();
  const user = await impersonatedUser(req, authenticated, opts.authorization?.authz) ?? authenticated;
  if (opts.authorization) await authorizeRequest(opts.authorization, user, req, path, url.searchParams);
  const info = parseResourcePath(req.method ?? 'GET', path, false);
  if (!info || !isPodStreamRequest(info) || !info.namespace) {
    throw new ApiError(400, 'BadRequest', `the server does not support upgrading the connection for ${path}`);
  }
  // Admission webhooks for CONNECT (exec, attach, portforward) before the stream opens.
  await admitConnect(opts.registry, { subresource: info.subresource ?? '', namespace: info.namespace, name: info.name!, query: url.searchParams, user });
  await handlePodStreamUpgrade({ req, socket, head, info, query: url.searchParams, registry: opts.registry, kubeletClient: opts.kubeletClient });
}

async function handle(opts: ApiServerOptions, limiter: InflightLimiter, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const method = req.method ?? 'GET';

  if (OPEN_PATHS.has(path) || path.startsWith('/livez/') || path.startsWith('/readyz/') || path.startsWith('/healthz/')) {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    if (path === '/version') return send(res, 200, { ...KUBERNETES_VERSION, gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: '', compiler: 'skiff', platform: `${process.platform}/${process.arch}`, skiffVersion: opts.skiffVersion });
    const ok = !path.startsWith('/readyz') || opts.ready();
    return sendRaw(res, ok ? 200 : 503, 'text/plain; charset=utf-8', ok ? 'ok' : '[-]ready failed: not ready yet');
  }

  // No credentials at all: system:anonymous, for authorization to judge (authn/anonymous.ts).
  const authenticated = await opts.authenticate(req) ?? (opts.authorization && !offersCredentials(req) ? ANONYMOUS : undefined);
  if (!authenticated) throw unauthorized();
  const longRunning = isLongRunning(method, path, url.searchParams);
  const auditRecord = opts.audit ? auditRequest(opts.audit, req, res, authenticated, url, path, longRunning) : undefined;
  // Impersonate-* headers (kubectl --as): from here on the request is that user (authn/impersonation.ts).
  const impersonated = await impersonatedUser(req, authenticated, opts.authorization?.authz);
  if (impersonated && auditRecord) auditRecord.impersonatedUser = impersonated;
  const user = impersonated ?? authenticated;
  if (!longRunning) {
    const release = limiter.acquire(poolOf(method, user.groups));
    res.once('close', release);
  }
  if (opts.authorization) await authorizeRequest(opts.authorization, user, req, path, url.searchParams);

  if (path === '/api' || path === '/apis') {
    if (method !== 'GET') throw methodNotAllowed();
    const neg = negotiate(req.headers.accept, { allowAggregated: true });
    if (neg.aggregatedDiscovery) {
      const body = JSON.stringify(aggregatedDiscovery(path === '/api', neg.aggregatedDiscovery));
      return sendRaw(res, 200, aggregatedContentType(neg.aggregatedDiscovery), body, { 'Cache-Control': 'no-cache, private' });
    }
    return send(res, 200, path === '/api' ? apiVersions(`${req.socket.localAddress}:${req.socket.localPort}`) : apiGroupList(), neg.format);
  }
  if (path.startsWith('/openapi/')) return serveOpenApi(req, res, path);
  if (path === SELF_SUBJECT_REVIEW_PATH) {
    if (method !== 'POST') throw methodNotAllowed();
    await readBody(req); // the body carries nothing the answer depends on
    return send(res, 201, selfSubjectReview(user), negotiate(req.headers.accept).format);
  }
  const review = opts.authorization && reviewOf(path);
  if (review) {
    if (method !== 'POST') throw methodNotAllowed();
    const body = decodeBody(await readBody(req), req.headers['content-type']);
    return send(res, 201, await answerReview(review, { user, body, authz: opts.authorization!.authz, rbac: opts.authorization!.rbac }), negotiate(req.headers.accept).format);
  }
  if (isMetricsPath(path)) {
    if (!opts.metrics) throw new ApiError(503, 'ServiceUnavailable', 'the metrics API is not available on this server');
    return serveMetricsApi({ req, res, path, query: url.searchParams, registry: opts.registry, source: opts.metrics });
  }

  const info = parseResourcePath(method, path, url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1');
  if (info) {
    if (!['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw methodNotAllowed();
    return handleResource({
      req, res, query: url.searchParams, info, registry: registryFor(opts.authorization, opts.registry, user), warnings: [], user,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 30_000, kubeletClient: opts.kubeletClient, tokenIssuer: opts.tokenIssuer,
    });
  }
  const parts = path.split('/').filter(Boolean);
  if (method === 'GET' && parts[0] === 'api' && parts.length === 2) {
    const list = apiResourceList('', parts[1]);
    if (list) return send(res, 200, list, negotiate(req.headers.accept).format);
  }
  if (method === 'GET' && parts[0] === 'apis' && parts.length === 2) {
    const group = apiGroupFor(parts[1]);
    if (group) return send(res, 200, group, negotiate(req.headers.accept).format);
  }
  if (method === 'GET' && parts[0] === 'apis' && parts.length === 3) {
    const list = apiResourceList(parts[1], parts[2]);
    if (list) return send(res, 200, list, negotiate(req.headers.accept).format);
  }
  throw notFoundPath(path);
}

function serveOpenApi(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (path === '/openapi/v3') return send(res, 200, openapiV3Index());
  if (path.startsWith('/openapi/v3/')) {
    const doc = openapiV3DocumentBytes(path.slice('/openapi/v3/'.length));
    if (doc) {
      if (req.headers['if-none-match'] === doc.etag) { res.writeHead(304, { ETag: doc.etag }); res.end(); return; }
      return sendRaw(res, 200, 'application/json', doc.body, { ETag: doc.etag, 'Cache-Control': 'public, immutable' });
    }
  }
  // OpenAPI v2 is not served: kubectl asks for it as protobuf only, and uses v3 instead.
  throw notFoundPath(path);
}
