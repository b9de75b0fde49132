// The load generator for bench/dns.ts, run as its own process so it does not share the
// DNS server's event loop: keeps `concurrency` UDP queries in flight against host:port
// over a few sockets, for a mix of pre-encoded queries, and reports per-query latency.
// Input: JSON on stdin; output: one JSON line on stdout.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

interface LoadConfig {
  host: string;
  port: number;
  /** Pre-encoded queries (base64, id 0) and the rcode each should get. */
  queries: { wire: string; rcode: number; answers: boolean }[];
  concurrency: number;
  sockets: number;
  warmupMs: number;
  durationMs: number;
}

const cfg = JSON.parse(readFileSync(0, 'utf8')) as LoadConfig;
const templates = cfg.queries.map((q) => ({ ...q, buf: Buffer.from(q.wire, 'base64') }));
const perSocket = Math.ceil(cfg.concurrency / cfg.sockets);
const latencies: number[] = [];
let measuring = false;
let finished = false;
let answered = 0;
let wrong = 0;
let lost = 0;
let next = 0;

interface Slot { sentAt: number; expect: (typeof templates)[number] }

function startSocket(): dgram.Socket {
  const sock = dgram.createSocket('udp4');
  const slots: (Slot | undefined)[] = new Array(perSocket);
  const buffers = Array.from({ length: perSocket }, () => Buffer.alloc(512));
  let serial = 0;
  // id = slot index in the low bits, a serial above, so a late answer to a slot's earlier
  // query is not taken for the current one.
  const bits = Math.ceil(Math.log2(perSocket + 1));
  const send = (slot: number): void => {
    if (finished) return;
    const t = templates[next++ % templates.length]!;
    // Each slot's own buffer: its previous query has been answered, so it is free again.
    const buf = buffers[slot]!;
    t.buf.copy(buf);
    serial = (serial + 1) & ((1 << (16 - bits)) - 1);
    buf.writeUInt16BE((serial << bits) | slot, 0);
    slots[slot] = { sentAt: performance.now(), expect: t };
    // Connected: no address to look up and route per send (measured, noisy: 20–40% more
    // queries per generator CPU-second).
    sock.send(buf, 0, t.buf.length);
  };
  const pending = new Map<number, number>();
  sock.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const slot = id & ((1 << bits) - 1);
    const s = slots[slot];
    if (!s || pending.get(slot) !== id) return;
    const now = performance.now();
    if (measuring) {
      answered++;
      latencies.push(now - s.sentAt);
      const rcode = msg[3]! & 0x0f;
      const ancount = msg.readUInt16BE(6);
      if (rcode !== s.expect.rcode || (ancount > 0) !== s.expect.answers) wrong++;
    }
    slots[slot] = undefined;
    sendTracked(slot);
  });
  const sendTracked = (slot: number): void => {
    send(slot);
    // The id just written, remembered to match the answer.
    pending.set(slot, (serial << bits) | slot);
  };
  sock.on('error', () => {});
  sock.bind(0, () => {
    sock.setRecvBufferSize(4 * 1024 * 1024);
    sock.connect(cfg.port, cfg.host, () => {
      for (let i = 0; i < perSocket; i++) sendTracked(i);
    });
  });
  // A query whose answer was dropped (a full socket buffer) is counted lost and replaced.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (let i = 0; i < perSocket; i++) {
      const s = slots[i];
      if (s && now - s.sentAt > 1000) {
        if (measuring) lost++;
        sendTracked(i);
      }
    }
  }, 100);
  sock.once('close', () => clearInterval(sweep));
  return sock;
}

const socks = Array.from({ length: cfg.sockets }, startSocket);
setTimeout(() => {
  measuring = true;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  setTimeout(() => {
    measuring = false;
    finished = true;
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1e6; // this generator's CPU seconds while measuring
    for (const s of socks) s.close();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? NaN;
    // An even subsample, for merging with other load processes' latencies.
    const step = Math.max(1, Math.floor(latencies.length / 20_000));
    const samples = latencies.filter((_, i) => i % step === 0).map((x) => Math.round(x * 1000) / 1000);
    process.stdout.write(`${JSON.stringify({ answered, seconds, qps: answered / seconds, cpu, wrong, lost, p50: pct(50), p99: pct(99), max: latencies[latencies.length - 1] ?? NaN, samples })}\n`);
  }, cfg.durationMs);
}, cfg.warmupMs);
