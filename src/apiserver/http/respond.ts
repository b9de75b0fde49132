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

/** About this much of a streamed list is written at a time. */
const LIST_PIECE_CHARS = 64 * 1024;

/**
 * A JSON list of objects whose JSON is already made (the watch cache's), written in pieces
 * of about 64 KB: between pieces it waits while the socket's buffer is full and otherwise
 * lets the event loop run, so a LIST of thousands of objects neither blocks every other
 * request while it is joined, measured and encrypted nor holds its whole body in memory.
 * `head` is the list without items, e.g. `{"kind":"PodList",...,"metadata":{...}}`. A
 * list that fits in one piece goes out at once, with a Content-Length.
 */
export async function streamJsonList(res: ServerResponse, head: string, items: readonly { json(): string }[], headers: Record<string, string> = {}): Promise<void> {
  let piece = `${head.slice(0, -1)},"items":[`;
  let i = 0;
  for (; i < items.length && piece.length < LIST_PIECE_CHARS; i++) piece += (i ? ',' : '') + items[i]!.json();
  if (i === items.length) {
    sendRaw(res, 200, 'application/json', `${piece}]}`, { 'Cache-Control': 'no-cache, private', ...headers });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers });
  while (i < items.length) {
    if (!res.write(piece)) await drainedOrClosed(res);
    else await new Promise((resolve) => setImmediate(resolve));
    if (res.destroyed) return;
    piece = '';
    for (; i < items.length && piece.length < LIST_PIECE_CHARS; i++) piece += `,${items[i]!.json()}`;
  }
  res.end(`${piece}]}`);
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function sendStatus(res: ServerResponse, status: Status): void {
  // 429 and 503 tell clients when to come back (client-go honours Retry-After).
  const retry = status.details?.retryAfterSeconds;
  send(res, status.code, status, 'json', retry ? { 'Retry-After': String(retry) } : {});
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendStatus(res, err.toStatus());
}
