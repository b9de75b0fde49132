// Writing responses: JSON or YAML bodies, and Status errors.
import type { ServerResponse } from 'node:http';
import YAML from 'yaml';
import type { ApiError, Status } from '../errors.ts';

export function send(res: ServerResponse, code: number, body: unknown, format: 'json' | 'yaml' = 'json', headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = format === 'yaml' ? YAML.stringify(body) : JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': format === 'yaml' ? 'application/yaml' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

export function sendRaw(res: ServerResponse, code: number, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  // 429 and 503 tell clients when to come back (client-go honours Retry-After).
  const retry = status.details?.retryAfterSeconds;
  send(res, status.code, status, 'json', retry ? { 'Retry-After': String(retry) } : {});
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendStatus(res, err.toStatus());
}
