import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket from 'ws';
import { silentLogger } from '../../util/log.ts';
import { FrameParser, HeaderCompressor, encodeData, encodeSynReply } from './spdy/frames.ts';
import { translateV5, translatorStats } from './stream-translator.ts';
import type { StreamFlags } from './types.ts';

// A stand-in for containerd's streaming server speaking remotecommand v4 over SPDY: replies
// to each stream, echoes stdin upper-cased on stdout (and "e:" + stdin on stderr), records
// resize messages, and on stdin's FIN writes the status and closes the connection.
const runtime = http.createServer((_req, res) => { res.writeHead(404); res.end(); });
const seen: { method: string; headers: http.IncomingHttpHeaders; streams: string[]; resize: string[] }[] = [];
runtime.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
  const rec = { method: req.method!, headers: req.headers, streams: [] as string[], resize: [] as string[] };
  seen.push(rec);
  socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
  const parser = new FrameParser();
  const c = new HeaderCompressor();
  const ids: Record<string, number> = {};
  const typeOf: Record<number, string> = {};
  socket.on('error', () => {});
  socket.on('close', () => { parser.close(); c.close(); });
  socket.on('data', async (d: Buffer) => {
    for (const f of await parser.push(d)) {
      if (f.type === 'synStream') {
        const t = f.headers.streamtype![0]!;
        ids[t] = f.streamId; typeOf[f.streamId] = t; rec.streams.push(t);
        socket.write(await encodeSynReply(c, f.streamId, {}));
      } else if (f.type === 'data') {
        const t = typeOf[f.streamId];
        if (t === 'resize' && f.data.length) rec.resize.push(f.data.toString());
        if (t === 'stdin' && f.data.length) {
          if (ids.stdout) socket.write(encodeData(ids.stdout, Buffer.from(f.data.toString().toUpperCase())));
          if (ids.stderr) socket.write(encodeData(ids.stderr, Buffer.from(`e:${f.data}`)));
        }
        if (t === 'stdin' && f.fin) {
          socket.write(encodeData(ids.error!, Buffer.from('{"metadata":{},"status":"Success"}')));
          socket.end();
        }
      }
    }
  });
});
let runtimeUrl: string;
// The agent side: every upgrade is translated.
let flags: StreamFlags = { stdin: true, stdout: true, stderr: true, tty: false };
const front = http.createServer();
front.on('upgrade', (req, socket, head) => {
  translateV5(req, socket, head, new URL(`${runtimeUrl}/exec/tok`), flags, silentLogger).catch((err) => socket.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${err.message}`));
});

before(async () => {
  runtime.listen(0, '127.0.0.1');
  front.listen(0, '127.0.0.1');
  await Promise.all([once(runtime, 'listening'), once(front, 'listening')]);
  runtimeUrl = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}`;
});
after(() => {
  runtime.closeAllConnections(); runtime.close();
  front.closeAllConnections(); front.close();
});

async function session(send: (ws: WebSocket) => void): Promise<{ protocol: string; messages: [number, string][]; close: number }> {
  const ws = new WebSocket(`ws://127.0.0.1:${(front.address() as AddressInfo).port}/`, ['v5.channel.k8s.io']);
  const messages: [number, string][] = [];
  ws.on('message', (m: Buffer) => messages.push([m[0]!, m.subarray(1).toString()]));
  await once(ws, 'open');
  send(ws);
  const [code] = await once(ws, 'close') as [number];
  return { protocol: ws.protocol, messages, close: code };
}

test('v5 stdin goes to the SPDY stdin stream, output comes back on channels 1 and 2, close [255, 0] half-closes stdin, then the status and a clean close', async () => {
  seen.length = 0;
  flags = { stdin: true, stdout: true, stderr: true, tty: false };
  const before = translatorStats.sessions;
  const r = await session((ws) => {
    ws.send(Buffer.concat([Buffer.of(0), Buffer.from('hello')]));
    ws.send(Buffer.of(255, 0));
  });
  assert.equal(r.protocol, 'v5.channel.k8s.io');
  assert.deepEqual(r.messages, [[1, 'HELLO'], [2, 'e:hello'], [3, '{"metadata":{},"status":"Success"}']]);
  assert.equal(r.close, 1000);
  assert.equal(translatorStats.sessions, before + 1);
  assert.equal(seen[0]!.method, 'POST');
  assert.equal(seen[0]!.headers.upgrade, 'SPDY/3.1');
  assert.equal(seen[0]!.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  assert.deepEqual(seen[0]!.streams, ['error', 'stdin', 'stdout', 'stderr']);
});

test('with a TTY: no stderr stream, a resize stream fed from channel 4', async () => {
  seen.length = 0;
  flags = { stdin: true, stdout: true, stderr: false, tty: true };
  const r = await session((ws) => {
    ws.send(Buffer.concat([Buffer.of(4), Buffer.from('{"Width":80,"Height":24}')]));
    ws.send(Buffer.concat([Buffer.of(0), Buffer.from('x')]));
    setTimeout(() => ws.send(Buffer.of(255, 0)), 50);
  });
  assert.deepEqual(r.messages, [[1, 'X'], [3, '{"metadata":{},"status":"Success"}']]);
  assert.deepEqual(seen[0]!.streams, ['error', 'stdin', 'stdout', 'resize']);
  assert.deepEqual(seen[0]!.resize, ['{"Width":80,"Height":24}']);
});

test('a runtime that cannot be reached fails before the WebSocket handshake', async () => {
  const saved = runtimeUrl;
  runtimeUrl = 'http://127.0.0.1:1';
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${(front.address() as AddressInfo).port}/`, ['v5.channel.k8s.io']);
    const [, res] = await once(ws, 'unexpected-response') as [unknown, http.IncomingMessage];
    assert.equal(res.statusCode, 502);
    ws.on('error', () => {});
    ws.terminate();
  } finally {
    runtimeUrl = saved;
  }
});
