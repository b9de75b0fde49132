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

/** A streamed list is made and written in pieces of about this many characters... */
const LIST_PIECE_CHARS = 64 * 1024;
/** ...for up to this long before other work gets a turn... */
const LIST_SLICE_MS = 2;
/** ...and while no more than this is waiting to go out on the socket. */
const LIST_MAX_BUFFERED = 1024 * 1024;

/**
 * A JSON list of objects whose JSON is already made (the watch cache's), written in pieces:
 * after ~2 ms of making and writing them it lets the event loop run, and it waits while
 * 1 MB is still waiting to go out, so a LIST of thousands of objects neither blocks every
 * other request while it is joined, measured and encrypted nor holds its whole body in
 * memory. `head` is the list without items, e.g. `{"kind":"PodList",...,"metadata":{...}}`.
 * A list that fits in one piece goes out at once, with a Content-Length.
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
  let sliceStart = performance.now();
  while (i < items.length) {
    const ok = res.write(piece);
    if (res.writableLength > LIST_MAX_BUFFERED || performance.now() - sliceStart > LIST_SLICE_MS) {
      if (!ok && res.writableLength > LIST_MAX_BUFFERED) await drainedOrClosed(res);
      else await new Promise((resolve) => setImmediate(resolve));
      if (res.destroyed) return;
      sliceStart = performance.now();
    }
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
