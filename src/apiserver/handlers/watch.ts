// Watch responses: newline-delimited JSON events on a chunked response, with periodic
// BOOKMARKs when the client allows them and an end after timeoutSeconds.
import type { KObject } from '../../api/object.ts';
import { negotiate } from '../http/negotiate.ts';
import { startWatch, bookmark, type ApiWatchEvent } from '../registry/watch.ts';
import { parseIncludeObject, toTable } from '../table.ts';
import { badRequest } from '../errors.ts';
import type { HandlerContext } from './resource.ts';
import { boolParam, intParam, selectorQuery } from './query.ts';

export async function serveWatch(ctx: HandlerContext): Promise<void> {
  const { info, registry, req, res, query } = ctx;
  const r = info.resource;
  const neg = negotiate(req.headers.accept, { allowTable: true });
  const allowBookmarks = boolParam(query, 'allowWatchBookmarks') ?? false;
  const sendInitialEvents = boolParam(query, 'sendInitialEvents');
  const rv = query.get('resourceVersion') ?? undefined;
  if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  if (sendInitialEvents !== undefined && query.get('resourceVersionMatch') !== 'NotOlderThan') {
    throw badRequest('resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
  }
  const timeoutSeconds = intParam(query, 'timeoutSeconds');
  const includeObject = parseIncludeObject(query.get('includeObject'));

  let ended = false;
  let lastRV = 0;
  let tableHeadersSent = false;
  const queue: string[] = [];
  const write = (ev: ApiWatchEvent): void => {
    if (ended) return;
    let object: unknown = ev.object;
    const rvText = (ev.object as KObject).metadata?.resourceVersion;
    if (rvText) lastRV = Math.max(lastRV, Number(rvText));
    if (neg.table && ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') {
      object = toTable(r, [ev.object as KObject], { version: neg.table, includeObject, noHeaders: tableHeadersSent });
      tableHeadersSent = true;
    }
    const line = object === ev.object && ev.json
      ? `{"type":"${ev.type}","object":${ev.json()}}\n`
      : JSON.stringify({ type: ev.type, object }) + '\n';
    if (!res.headersSent) { queue.push(line); return; }
    res.write(line);
  };

  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(bookmarkTimer);
    clearTimeout(timeoutTimer);
    watcher?.close();
    if (!res.writableEnded) res.end();
  };

  let watcher: Awaited<ReturnType<typeof startWatch>> | undefined;
  watcher = await startWatch(registry, r, info.namespace, { ...selectorQuery(r, query), resourceVersion: rv, sendInitialEvents }, write, end);
  lastRV = Math.max(lastRV, watcher.startRevision);
  res.writeHead(200, {
    'Content-Type': neg.format === 'yaml' ? 'application/yaml;stream=watch' : 'application/json;stream=watch',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  for (const line of queue) res.write(line);
  queue.length = 0;

  const bookmarkTimer = setInterval(() => {
    if (allowBookmarks) write({ type: 'BOOKMARK', object: bookmark(r, lastRV) as KObject });
  }, ctx.bookmarkIntervalMs);
  bookmarkTimer.unref();
  const timeoutTimer = timeoutSeconds && timeoutSeconds > 0 ? setTimeout(end, timeoutSeconds * 1000) : undefined;
  timeoutTimer?.unref();
  req.on('close', end);
  res.on('close', end);
  if (ended) end();
}
