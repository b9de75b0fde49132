// Ties an audit record to one HTTP request: its attributes from the path, its body when
// the handler reads it, its response (status, and body at RequestResponse) when it ends.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserInfo } from '../authn/types.ts';
import { bodyObservers, decodeBody, mediaType } from '../http/body.ts';
import { parseResourcePath } from '../request-info.ts';
import type { AuditLog, AuditRecord } from './log.ts';
import type { RequestAttributes } from './policy.ts';

const MAX_CAPTURE = 1024 * 1024;

function attributesOf(method: string, path: string, query: URLSearchParams, user: UserInfo): { attrs: RequestAttributes; apiVersion?: string } {
  const base = { user: user.name, groups: user.groups, path };
  try {
    const info = parseResourcePath(method, path, query.get('watch') === 'true' || query.get('watch') === '1');
    if (info) {
      const r = info.resource;
      return {
        attrs: { ...base, verb: info.verb, resource: { group: r.group, resource: r.resource, subresource: info.subresource, namespace: info.namespace, name: info.name } },
        apiVersion: r.version,
      };
    }
  } catch { /* an unknown resource path: audited as a non-resource request */ }
  return { attrs: { ...base, verb: method.toLowerCase() } };
}

const parseJson = (buf: Buffer): unknown => {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
};

/** Starts the request's audit record (undefined when the policy says None). */
export function auditRequest(log: AuditLog, req: IncomingMessage, res: ServerResponse, user: UserInfo, url: URL, path: string, longRunning: boolean): AuditRecord | undefined {
  const method = req.method ?? 'GET';
  const { attrs, apiVersion } = attributesOf(method, path, url.searchParams, user);
  const forwarded = String(req.headers['x-forwarded-for'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const record = log.begin({
    attrs, apiVersion, requestURI: req.url ?? path, longRunning, uid: user.uid,
    sourceIPs: [...forwarded, req.socket.remoteAddress ?? ''].filter(Boolean),
    userAgent: req.headers['user-agent'],
  });
  if (!record) return undefined;
  if (record.wantsRequestBody) {
    bodyObservers.set(req, (body) => {
      // Logged as JSON whatever the client sent (kubectl sends protobuf for built-in kinds).
      try {
        record.requestObject = decodeBody(body, req.headers['content-type'], [mediaType(req.headers['content-type']) || 'application/json']);
      } catch { /* the handler answers the malformed body; the event has no requestObject */ }
    });
  }
  // Capture what is sent, except for streams (watches, followed logs).
  const chunks: Buffer[] = [];
  let size = 0;
  if (!longRunning) {
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    const keep = (chunk: unknown) => {
      if (chunk === undefined || typeof chunk === 'function' || size > MAX_CAPTURE) return;
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += b.length;
      if (size <= MAX_CAPTURE) chunks.push(b);
    };
    res.write = ((...a: unknown[]) => { keep(a[0]); return write(...a); }) as typeof res.write;
    res.end = ((...a: unknown[]) => { keep(a[0]); return end(...a); }) as typeof res.end;
  } else {
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    res.writeHead = ((...a: unknown[]) => { record.started(); return writeHead(...a); }) as typeof res.writeHead;
  }
  res.once('close', () => {
    // Headers given to writeHead are not readable back, so JSON is recognised by parsing.
    const body = chunks.length ? parseJson(Buffer.concat(chunks)) as Record<string, any> | undefined : undefined;
    if (record.wantsResponseBody && body !== undefined) record.responseObject = body;
    const code = res.writableFinished || res.headersSent ? res.statusCode : 499;
    record.complete(code, body?.kind === 'Status' ? { status: body.status, reason: body.reason, message: body.message } : undefined);
  });
  return record;
}
