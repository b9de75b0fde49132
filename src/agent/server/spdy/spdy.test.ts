import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import {
  FrameParser, HeaderCompressor, HeaderDecompressor, SETTINGS_INITIAL_WINDOW_SIZE, decodeHeaderBlock, encodeData, encodeGoAway,
  encodeHeaderBlock, encodePing, encodeRstStream, encodeSettings, encodeSynReply, encodeSynStream, encodeWindowUpdate, type Frame,
} from './frames.ts';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import { SpdyClientSession } from './session.ts';

// What kubectl 1.32 (client-go, moby/spdystream) sent for `kubectl exec -i p -- true` with
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, captured by answering its SPDY upgrade on a local
// listener (and each SYN_STREAM with a SYN_REPLY from HeaderCompressor, which it accepted):
// SYN_STREAMs for the error, stdin, stdout and stderr streams, then stdin's FIN.
const KUBECTL_CAPTURE = Buffer.from('80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff800300010000001700000003000000000000c22e555c92929907000000ffff800300010000001900000005000000000000c22ac5565c92925f5a02000000ffff800300010000001500000007000000000000c229975a5404000000ffff0000000301000000', 'hex');

async function parseAll(bytes: Buffer, step: number): Promise<Frame[]> {
  const p = new FrameParser();
  const out: Frame[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(...await p.push(bytes.subarray(i, i + step)));
  p.close();
  return out;
}

test('the SPDY/3 dictionary is the 1423 bytes of the spec', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY3_DICTIONARY.toString('latin1').endsWith('charset=iso-8859-1,utf-,*,enq=0.'));
});

test('frames kubectl sent decode, in one piece or byte by byte', async () => {
  for (const step of [KUBECTL_CAPTURE.length, 7, 1]) {
    const frames = await parseAll(KUBECTL_CAPTURE, step);
    assert.deepEqual(frames.map((f) => f.type === 'synStream' ? [f.streamId, f.headers] : f), [
      [1, { streamtype: ['error'] }], [3, { streamtype: ['stdin'] }], [5, { streamtype: ['stdout'] }], [7, { streamtype: ['stderr'] }],
      { type: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) },
    ]);
  }
});

test('our SYN_STREAMs are byte for byte what Go (spdystream) writes for the same headers', async () => {
  const c = new HeaderCompressor();
  const ours = Buffer.concat([
    await encodeSynStream(c, 1, { streamtype: ['error'] }), await encodeSynStream(c, 3, { streamtype: ['stdin'] }),
    await encodeSynStream(c, 5, { streamtype: ['stdout'] }), await encodeSynStream(c, 7, { streamtype: ['stderr'] }),
    encodeData(3, Buffer.alloc(0), true),
  ]);
  c.close();
  assert.equal(ours.toString('hex'), KUBECTL_CAPTURE.toString('hex'));
});

test('every frame type round-trips, header blocks sharing one compression context', async () => {
  const c = new HeaderCompressor();
  const bytes = Buffer.concat([
    await encodeSynStream(c, 1, { streamtype: ['error'] }, { priority: 3 }),
    await encodeSynStream(c, 3, { port: ['8080'], 'requestid': ['0'], multi: ['a', 'b'] }, { fin: true, unidirectional: true }),
    await encodeSynReply(c, 2, { status: ['200'] }, true),
    encodeData(1, Buffer.from('hello')),
    encodeData(3, Buffer.alloc(70_000, 7), true),
    encodeRstStream(5, 5), encodePing(2), encodeGoAway(7, 1), encodeWindowUpdate(0, 1234),
    encodeSettings([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: 1 << 20 }, { flags: 1, id: 4, value: 100 }]),
  ]);
  c.close();
  assert.deepEqual(await parseAll(bytes, 1000), [
    { type: 'synStream', streamId: 1, associatedId: 0, priority: 3, fin: false, unidirectional: false, headers: { streamtype: ['error'] } },
    { type: 'synStream', streamId: 3, associatedId: 0, priority: 0, fin: true, unidirectional: true, headers: { port: ['8080'], requestid: ['0'], multi: ['a', 'b'] } },
    { type: 'synReply', streamId: 2, fin: true, headers: { status: ['200'] } },
    { type: 'data', streamId: 1, fin: false, data: Buffer.from('hello') },
    { type: 'data', streamId: 3, fin: true, data: Buffer.alloc(70_000, 7) },
    { type: 'rstStream', streamId: 5, status: 5 },
    { type: 'ping', id: 2 },
    { type: 'goAway', lastGoodStreamId: 7, status: 1 },
    { type: 'windowUpdate', streamId: 0, delta: 1234 },
    { type: 'settings', clear: false, entries: [{ flags: 0, id: SETTINGS_INITIAL_WINDOW_SIZE, value: 1 << 20 }, { flags: 1, id: 4, value: 100 }] },
  ]);
});

test('header blocks: lower-cased names, NUL-joined values; a block needs the context of the ones before it', async () => {
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ StreamType: ['x'], v: ['1', '2'] })), { streamtype: ['x'], v: ['1', '2'] });
  const c = new HeaderCompressor();
  const first = await c.compress({ streamtype: ['stdout'] });
  const second = await c.compress({ streamtype: ['stdout'] });
  c.close();
  assert.ok(second.length < first.length, 'the second block refers back to the first');
  const d = new HeaderDecompressor();
  assert.deepEqual(await d.decompress(first), { streamtype: ['stdout'] });
  assert.deepEqual(await d.decompress(second), { streamtype: ['stdout'] });
  d.close();
  const fresh = new HeaderDecompressor();
  await assert.rejects(fresh.decompress(second));
  fresh.close();
});

/** A SPDY peer on a socket pair: the session under test on one end, frames recorded and written on the other. */
async function peer() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [remote] = (await once(server, 'connection')) as [net.Socket];
  server.close();
  const frames: Frame[] = [];
  const parser = new FrameParser();
  remote.on('data', (d: Buffer) => { parser.push(d).then((f) => frames.push(...f)); });
  const c = new HeaderCompressor();
  return { session: new SpdyClientSession(client), remote, frames, c, until: async (ok: () => boolean) => { for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10)); assert.ok(ok(), JSON.stringify(frames)); } };
}

test('session: streams, replies, data both ways, FIN, ping echo, WINDOW_UPDATE after consumption (to a peer that does flow control), close', async () => {
  const { session, remote, frames, c, until } = await peer();
  remote.write(encodeSettings([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: 65536 }]));
  await until(() => session.peerFlowControl);
  const a = session.createStream({ streamtype: ['error'] });
  const b = session.createStream({ streamtype: ['stdin'] });
  assert.deepEqual([a.id, b.id], [1, 3]);
  const got: Buffer[] = [];
  let replied = false;
  let ended = false;
  a.on('reply', () => { replied = true; });
  a.on('data', (d) => { got.push(d); a.consumed(d.length); });
  a.on('end', () => { ended = true; });
  b.write(Buffer.from('in'));
  b.end();
  remote.write(await encodeSynReply(c, 1, {}));
  remote.write(encodeData(1, Buffer.alloc(40_000, 1)));
  remote.write(encodeData(1, Buffer.from('x'), true));
  remote.write(encodePing(2));
  await until(() => ended && frames.some((f) => f.type === 'ping'));
  assert.ok(replied);
  assert.equal(Buffer.concat(got).length, 40_001);
  const types = frames.map((f) => f.type === 'synStream' ? `syn ${f.streamId}` : f.type === 'data' ? `data ${f.streamId} ${f.data} ${f.fin}` : f.type === 'windowUpdate' ? `wu ${f.streamId} ${f.delta}` : f.type);
  assert.deepEqual(types, ['syn 1', 'syn 3', 'data 3 in false', 'data 3  true', 'wu 1 40000', 'wu 0 40000', 'ping']);
  const closed = once(session, 'close');
  remote.destroy();
  await closed;
  assert.ok(session.closed);
});

test('session: no WINDOW_UPDATE to a peer that does no flow control (spdystream), and sends not held back', async () => {
  const { session, remote, frames, c, until } = await peer();
  const s = session.createStream({ streamtype: ['stdout'] });
  s.on('data', (d) => s.consumed(d.length));
  s.write(Buffer.alloc(200_000, 1));
  remote.write(await encodeSynReply(c, 1, {}));
  remote.write(encodeData(1, Buffer.alloc(100_000, 2), true));
  const sent = () => frames.filter((f) => f.type === 'data').reduce((n, f) => n + (f as { data: Buffer }).data.length, 0);
  await until(() => sent() === 200_000 && s.remoteClosed);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(!frames.some((f) => f.type === 'windowUpdate'));
  session.close();
  remote.destroy();
  c.close();
});

test('session: sends within the peer\'s windows once it does flow control', async () => {
  const { session, remote, frames, until } = await peer();
  remote.write(encodeSettings([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: 1000 }]));
  await until(() => session.peerFlowControl);
  const s = session.createStream({ streamtype: ['stdin'] });
  s.write(Buffer.alloc(2500, 1));
  s.end();
  const sent = () => frames.filter((f) => f.type === 'data').reduce((n, f) => n + (f as { data: Buffer }).data.length, 0);
  await until(() => sent() === 1000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sent(), 1000);
  remote.write(encodeWindowUpdate(1, 5000));
  await until(() => frames.some((f) => f.type === 'data' && f.fin));
  assert.equal(sent(), 2500);
  session.close();
  remote.destroy();
});
