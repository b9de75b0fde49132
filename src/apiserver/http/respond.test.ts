import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { streamJsonList } from './respond.ts';

const HEAD = JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' } });
const itemsOf = (n: number, size: number) => Array.from({ length: n }, (_, i) => {
  const text = JSON.stringify({ metadata: { name: `cm-${i}` }, data: { k: 'v'.repeat(size) } });
  return { json: () => text };
});

async function serve(handler: http.RequestListener) {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { port, close: () => { server.closeAllConnections(); server.close(); } };
}

const get = (port: number, path: string) => new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: '127.0.0.1', port, path, agent: false }, resolve).on('error', reject));
async function bodyOf(res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

test('a small list goes out at once with a Content-Length; a large one in pieces, whole and valid', async () => {
  const small = itemsOf(3, 10);
  const large = itemsOf(5_000, 1_000);
  const s = await serve((req, res) => { void streamJsonList(res, HEAD, req.url === '/small' ? small : req.url === '/empty' ? [] : large); });
  try {
    const a = await get(s.port, '/small');
    assert.ok(a.headers['content-length'], 'small list has a Content-Length');
    const parsedSmall = JSON.parse(await bodyOf(a));
    assert.deepEqual(parsedSmall.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['cm-0', 'cm-1', 'cm-2']);
    assert.equal(parsedSmall.metadata.resourceVersion, '7');
    assert.deepEqual(JSON.parse(await bodyOf(await get(s.port, '/empty'))).items, []);

    const b = await get(s.port, '/large');
    assert.equal(b.headers['transfer-encoding'], 'chunked');
    const parsed = JSON.parse(await bodyOf(b));
    assert.equal(parsed.kind, 'ConfigMapList');
    assert.equal(parsed.items.length, 5_000);
    assert.equal(parsed.items[4_999].metadata.name, 'cm-4999');
  } finally { s.close(); }
});

test('a client reading a large list slowly holds little of it in the server, others are answered meanwhile, and leaving ends the stream', async () => {
  const large = itemsOf(20_000, 1_000); // ~20 MB
  let finished: Promise<void> | undefined;
  let listRes: http.ServerResponse | undefined;
  let settled = false;
  const s = await serve((req, res) => {
    if (req.url === '/large') { listRes = res; finished = streamJsonList(res, HEAD, large).finally(() => { settled = true; }); return; }
    res.end('pong');
  });
  try {
    const slow = await get(s.port, '/large');
    slow.pause(); // reads nothing more: the server must wait for it
    await new Promise((r) => setTimeout(r, 300));
    const buffered = listRes!.writableLength; // what the response and its socket hold
    assert.ok(buffered < 2_000_000, `the server buffered ${buffered} bytes of a 20 MB list for a client that reads nothing`);
    assert.equal(settled, false, 'the list is still being written');
    const started = performance.now();
    assert.equal(await bodyOf(await get(s.port, '/ping')), 'pong');
    assert.ok(performance.now() - started < 1_000, `ping took ${performance.now() - started} ms beside a stalled list`);
    slow.destroy();
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream did not end after its client left')), 5_000).unref())]);
  } finally { s.close(); }
});
