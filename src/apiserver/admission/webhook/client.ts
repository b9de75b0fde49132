// Calls one webhook: POST the AdmissionReview as JSON over HTTPS, trusting only the
// webhook's caBundle (system roots when it has none), within its timeout. A `service`
// reference is reached at a ready endpoint of the Service, with the TLS server name
// `<name>.<namespace>.svc` that the webhook's certificate is made for, as kube-apiserver
// does with endpoint routing. Failures are CallErrors worded like Go's http client's.
import { request } from 'node:https';
import { isIP } from 'node:net';
import type { Endpoint, Webhook } from './types.ts';

const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;

/** The webhook could not be called or gave no usable answer: subject to failurePolicy. */
export class CallError extends Error {}

export interface Target {
  /** What messages show: the url, or https://<svc>.<ns>.svc:<port><path>. */
  display: string;
  host: string;
  port: number;
  path: string;
  servername?: string;
}

export async function targetOf(hook: Webhook, resolve: (ns: string, name: string, port: number) => Promise<Endpoint>): Promise<Target> {
  const timeout = `timeout=${hook.timeoutSeconds ?? 10}s`;
  const cc = hook.clientConfig;
  if (cc.url) {
    const u = new URL(cc.url);
    const path = `${u.pathname || '/'}?${timeout}`;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return { display: `https://${u.host}${path}`, host, port: Number(u.port || 443), path, servername: isIP(host) ? undefined : host };
  }
  const svc = cc.service!;
  const port = svc.port ?? 443;
  const path = `${svc.path || '/'}?${timeout}`;
  const servername = `${svc.name}.${svc.namespace}.svc`;
  const display = `https://${servername}:${port}${path}`;
  let ep: Endpoint;
  try {
    ep = await resolve(svc.namespace, svc.name, port);
  } catch (err) {
    throw new CallError(`failed to call webhook: Post "${display}": ${(err as Error).message}`);
  }
  return { display, host: ep.host, port: ep.port, path, servername };
}

/** POSTs the body and returns the parsed JSON answer. */
export function post(target: Target, caBundle: string | undefined, body: string, timeoutMs: number): Promise<unknown> {
  const ca = caBundle ? Buffer.from(caBundle, 'base64') : undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err); else resolve(value);
    };
    const fail = (message: string): void => done(new CallError(`failed to call webhook: Post "${target.display}": ${message}`));
    const req = request({
      host: target.host, port: target.port, path: target.path, method: 'POST', agent: false,
      ...(ca ? { ca } : {}), ...(target.servername ? { servername: target.servername } : {}),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) { req.destroy(); fail('response body too large'); return; }
        chunks.push(c);
      });
      res.on('error', (err) => fail(err.message));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
          done(new CallError(`failed to call webhook: the server responded with the status code ${res.statusCode}: ${text.slice(0, 200) || 'no further details'}`));
          return;
        }
        try {
          done(undefined, JSON.parse(text));
        } catch {
          done(new CallError(`received invalid webhook response: ${text.slice(0, 200)}`));
        }
      });
    });
    const timer = setTimeout(() => { fail('context deadline exceeded'); req.destroy(); }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => fail(describe(target, err)));
    req.end(body);
  });
}

/** Go-like wording for connection and TLS failures. */
function describe(target: Target, err: NodeJS.ErrnoException): string {
  const addr = `${target.host}:${target.port}`;
  switch (err.code) {
    case 'ECONNREFUSED': return `dial tcp ${addr}: connect: connection refused`;
    case 'ECONNRESET': return 'EOF';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: ${err.message}`;
    default: return err.message;
  }
}
