import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTimestamp, parseCriLogLine, parseTimestamp, streamCriLog, type LogReadOptions, type FollowOptions } from './cri-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'cri-log-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function logFile(content: string): string {
  const p = join(dir, `${n++}.log`);
  writeFileSync(p, content);
  return p;
}

async function read(path: string, opts: LogReadOptions = {}, signal = new AbortController().signal, follow?: FollowOptions): Promise<string> {
  const chunks: Buffer[] = [];
  await streamCriLog(path, opts, (c) => { chunks.push(Buffer.from(c)); }, signal, follow);
  return Buffer.concat(chunks).toString('utf8');
}

const LOG = [
  '2024-01-01T00:00:01.100000000Z stdout F one',
  '2024-01-01T00:00:02.000000000Z stderr F two',
  '2024-01-01T00:00:03.123456789Z stdout P thr',
  '2024-01-01T00:00:03.200000000Z stdout P e',
  '2024-01-01T00:00:03.300000000Z stdout F e',
  'not a cri line',
  '2024-01-01T00:00:04.000000000+02:00 stdout F four',
  '2024-01-01T00:00:05.000000000Z stdout F ',
  '',
].join('\n');

test('parses entries and skips malformed lines', () => {
  const e = parseCriLogLine(Buffer.from('2016-10-06T00:17:09.669794202Z stdout F hello world'))!;
  assert.equal(e.stream, 'stdout');
  assert.equal(e.partial, false);
  assert.equal(e.message.toString(), 'hello world');
  assert.equal(e.time, Date.parse('2016-10-06T00:17:09.669Z') + 0.794202);
  assert.equal(parseCriLogLine(Buffer.from('2016-10-06T00:17:09Z stdin F x')), undefined);
  assert.equal(parseCriLogLine(Buffer.from('garbage')), undefined);
  assert.equal(parseCriLogLine(Buffer.from('2016-10-06T00:17:09Z stdout F'))!.message.length, 0);
  assert.equal(parseCriLogLine(Buffer.from('2016-10-06T00:17:09Z stdout P:x part'))!.partial, true);
  assert.ok(Number.isNaN(parseTimestamp('yesterday')));
});

test('formats timestamps as RFC3339Nano', () => {
  assert.equal(formatTimestamp('2024-01-01T00:00:01.100000000Z'), '2024-01-01T00:00:01.1Z');
  assert.equal(formatTimestamp('2024-01-01T00:00:01.000000000Z'), '2024-01-01T00:00:01Z');
  assert.equal(formatTimestamp('2024-01-01T00:00:01.123456789+02:00'), '2024-01-01T00:00:01.123456789+02:00');
});

test('joins partial lines and prints messages', async () => {
  assert.equal(await read(logFile(LOG)), 'one\ntwo\nthree\nfour\n\n');
});

test('timestamps prefix each logical line with its first entry', async () => {
  assert.equal(await read(logFile(LOG), { timestamps: true }), [
    '2024-01-01T00:00:01.1Z one',
    '2024-01-01T00:00:02Z two',
    '2024-01-01T00:00:03.123456789Z three',
    '2024-01-01T00:00:04+02:00 four',
    '2024-01-01T00:00:05Z ',
    '',
  ].join('\n'));
});

test('tailLines keeps the last logical lines', async () => {
  assert.equal(await read(logFile(LOG), { tailLines: 2 }), 'four\n\n');
  assert.equal(await read(logFile(LOG), { tailLines: 4 }), 'two\nthree\nfour\n\n');
  assert.equal(await read(logFile(LOG), { tailLines: 0 }), '');
  assert.equal(await read(logFile(LOG), { tailLines: 100 }), 'one\ntwo\nthree\nfour\n\n');
});

test('since skips older lines (zones honoured)', async () => {
  // 00:00:04+02:00 is 22:00:04 the day before: older than everything else.
  assert.equal(await read(logFile(LOG), { sinceMs: Date.parse('2024-01-01T00:00:02Z') }), 'two\nthree\n\n');
  assert.equal(await read(logFile(LOG), { sinceMs: Date.parse('2024-01-01T00:00:03.123Z'), tailLines: 1 }), '\n');
});

test('limitBytes cuts the output', async () => {
  assert.equal(await read(logFile(LOG), { limitBytes: 6 }), 'one\ntw');
  assert.equal(await read(logFile(LOG), { limitBytes: 4 }), 'one\n');
  assert.equal(await read(logFile(LOG), { limitBytes: 1000 }), 'one\ntwo\nthree\nfour\n\n');
});

test('bytes that are not UTF-8 and characters split across reads go through', async () => {
  const big = 'é'.repeat(70_000); // > one 64 KiB read, so a character straddles two reads
  const p = join(dir, 'bin.log');
  writeFileSync(p, Buffer.concat([Buffer.from(`2024-01-01T00:00:01Z stdout F ${big}\n2024-01-01T00:00:01Z stdout F `), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]));
  const chunks: Buffer[] = [];
  await streamCriLog(p, {}, (c) => { chunks.push(Buffer.from(c)); }, new AbortController().signal);
  const out = Buffer.concat(chunks);
  assert.equal(out.subarray(0, out.length - 3).toString('utf8'), `${big}\n`);
  assert.deepEqual([...out.subarray(out.length - 3)], [0xff, 0xfe, 0x0a]);
});

test('a last line without newline and pending partials end a non-follow read', async () => {
  assert.equal(await read(logFile('2024-01-01T00:00:01Z stdout F a\n2024-01-01T00:00:02Z stdout P b')), 'a\nb');
});

function collector() {
  let text = '';
  const waiters: { want: string; resolve: () => void }[] = [];
  return {
    write(c: Buffer) {
      text += c.toString('utf8');
      for (const w of waiters.splice(0)) { if (text.includes(w.want)) w.resolve(); else waiters.push(w); }
    },
    get text() { return text; },
    until(want: string, ms = 3000): Promise<void> {
      if (text.includes(want)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(want)}; have ${JSON.stringify(text)}`)), ms);
        waiters.push({ want, resolve: () => { clearTimeout(t); resolve(); } });
      });
    },
  };
}

test('follow reads appends, joins partials across writes, and stops on abort', async () => {
  const p = logFile('2024-01-01T00:00:01Z stdout F first\n');
  const c = collector();
  const ac = new AbortController();
  const done = streamCriLog(p, { follow: true, tailLines: 1 }, (b) => c.write(b), ac.signal, { locate: () => ({ path: p, containerId: 'c1' }), pollMs: 50 });
  await c.until('first\n');
  appendFileSync(p, '2024-01-01T00:00:02Z stdout P sec');
  appendFileSync(p, 'ond-half');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(c.text, 'first\n');
  appendFileSync(p, '\n2024-01-01T00:00:03Z stdout F !\n');
  await c.until('second-half!\n');
  ac.abort();
  await done;
  assert.equal(c.text, 'first\nsecond-half!\n');
});

test('follow reopens a rotated file and ends when the container is replaced', async () => {
  const p = logFile('2024-01-01T00:00:01Z stdout F old\n');
  const c = collector();
  let id = 'c1';
  const done = streamCriLog(p, { follow: true }, (b) => c.write(b), new AbortController().signal, { locate: () => ({ path: p, containerId: id }), pollMs: 30 });
  await c.until('old\n');
  appendFileSync(p, '2024-01-01T00:00:02Z stdout F before-rotation\n');
  renameSync(p, `${p}.1`);
  writeFileSync(p, '2024-01-01T00:00:03Z stdout F after-rotation\n');
  await c.until('after-rotation\n');
  appendFileSync(p, '2024-01-01T00:00:04Z stdout F last\n');
  id = 'c2';
  await done;
  assert.equal(c.text, 'old\nbefore-rotation\nafter-rotation\nlast\n');
});

test('follow ends at the end of the file once the container stopped running', async () => {
  const p = logFile('2024-01-01T00:00:01Z stdout F x\n');
  let running = true;
  const c = collector();
  const done = streamCriLog(p, { follow: true }, (b) => c.write(b), new AbortController().signal, { locate: () => ({ path: p, containerId: 'c', running }), pollMs: 30 });
  await c.until('x\n');
  appendFileSync(p, '2024-01-01T00:00:02Z stdout F y\n2024-01-01T00:00:03Z stdout P z');
  running = false;
  await done;
  assert.equal(c.text, 'x\ny\nz');
});

test('follow with limitBytes ends when the limit is reached', async () => {
  const p = logFile('2024-01-01T00:00:01Z stdout F abc\n');
  const c = collector();
  const done = streamCriLog(p, { follow: true, limitBytes: 6 }, (b) => c.write(b), new AbortController().signal, { locate: () => ({ path: p, containerId: 'c' }), pollMs: 30 });
  await c.until('abc\n');
  appendFileSync(p, '2024-01-01T00:00:02Z stdout F defg\n');
  await done;
  assert.equal(c.text, 'abc\nde');
});
