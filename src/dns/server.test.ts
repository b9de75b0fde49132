import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeResource } from '../client/fake-resource.ts';
import { Informer } from '../client/informer.ts';
import { fixture, service, slice } from './testing.ts';
import { parseUpstream, resolvConfNameservers, startDnsServer, type DnsServer } from './server.ts';
import { Class, Rcode, Type, decode, encode, message, type Message } from './wire.ts';

/** A tiny upstream: example.com A → 93.184.216.34, anything else NXDOMAIN with an SOA. */
async function fakeUpstream(): Promise<{ port: number; seen: Map<string, number>; close: () => Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const seen = new Map<string, number>();
  sock.on('message', (buf, rinfo) => {
    const q = decode(buf);
    const name = q.questions[0]!.name.toLowerCase();
    seen.set(name, (seen.get(name) ?? 0) + 1);
    const found = name === 'example.com' && q.questions[0]!.type === Type.A;
    const res = message({
      header: { id: q.header.id, qr: true, rd: q.header.rd, ra: true, rcode: found ? Rcode.NOERROR : Rcode.NXDOMAIN },
      questions: q.questions,
      answers: found ? [{ name: 'example.com', type: Type.A, class: Class.IN, ttl: 300, data: '93.184.216.34' }] : [],
      authorities: found ? [] : [{ name: 'com', type: Type.SOA, class: Class.IN, ttl: 900, data: { mname: 'a.gtld-servers.net', rname: 'nstld.verisign-grs.com', serial: 1, refresh: 1800, retry: 900, expire: 604800, minimum: 86400 } }],
    });
    sock.send(encode(res), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: (sock.address() as net.AddressInfo).port, seen, close: () => new Promise((r) => sock.close(() => r())) };
}

/** One query over TCP with the 2-byte length prefix. */
function tcpQuery(port: number, q: Message): Promise<Message> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const body = encode(q);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(body.length);
    // Written in two pieces, to check the server reassembles frames.
    sock.write(Buffer.concat([len, body.subarray(0, 5)]));
    setTimeout(() => sock.write(body.subarray(5)), 20);
    let got = Buffer.alloc(0);
    sock.on('data', (c) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) { sock.end(); resolve(decode(got.subarray(2))); }
    });
    sock.on('error', reject);
  });
}

function udpQuery(port: number, q: Message): Promise<Message> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (buf) => { sock.close(); resolve(decode(buf)); });
    sock.on('error', reject);
    sock.send(encode(q), port, '127.0.0.1');
  });
}

const query = (name: string, type: number): Message => message({ header: { id: 4242, rd: true }, questions: [{ name, type, class: Class.IN }] });

describe('dns server', () => {
  let server: DnsServer;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let deadUpstream: dgram.Socket;
  const services = new FakeResource();
  const slices = new FakeResource();
  const svcInformer = new Informer(services, { name: 'services' });
  const sliceInformer = new Informer(slices, { name: 'endpointslices' });
  let clock = 1_000_000_000_000;
  let resolver: Resolver;

  before(async () => {
    const f = fixture();
    for (const s of f.services) await services.create(s);
    for (const s of f.slices) await slices.create(s);
    // A headless service big enough that its A answer cannot travel over UDP.
    await services.create(service('default', 'big', { clusterIP: 'None', clusterIPs: ['None'] }));
    await slices.create(slice('default', 'big', 'big-1', Array.from({ length: 300 }, (_, i) => ({
      addresses: [`10.42.${Math.floor(i / 250)}.${(i % 250) + 1}`], conditions: { ready: true },
    }))));
    svcInformer.start();
    sliceInformer.start();
    await Promise.all([svcInformer.waitForSync(), sliceInformer.waitForSync()]);
    upstream = await fakeUpstream();
    // An upstream that never answers: the server moves on to the next after the timeout.
    deadUpstream = dgram.createSocket('udp4');
    await new Promise<void>((r) => deadUpstream.bind(0, '127.0.0.1', () => r()));
    server = await startDnsServer({
      host: '127.0.0.1', port: 0, services: svcInformer, endpointSlices: sliceInformer,
      upstreams: [`127.0.0.1:${(deadUpstream.address() as net.AddressInfo).port}`, `127.0.0.1:${upstream.port}`],
      upstreamTimeoutMs: 300, now: () => clock,
    });
    resolver = new Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.port}`]);
  });

  after(async () => {
    await server?.close();
    await upstream?.close();
    deadUpstream?.close();
    svcInformer.stop();
    sliceInformer.stop();
  });

  it('answers A, SRV and PTR over UDP to a real resolver', async () => {
    assert.deepEqual(await resolver.resolve4('web.default.svc.cluster.local'), ['10.43.0.10']);
    assert.deepEqual(await resolver.resolve6('dual.other.svc.cluster.local'), ['fd00:43::20']);
    assert.deepEqual((await resolver.resolve4('db.default.svc.cluster.local')).sort(), ['10.42.0.7', '10.42.0.8']);
    assert.deepEqual(await resolver.resolveSrv('_http._tcp.web.default.svc.cluster.local'),
      [{ name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
    assert.deepEqual(await resolver.reverse('10.43.0.10'), ['web.default.svc.cluster.local']);
    assert.deepEqual(await resolver.resolveCname('ext.default.svc.cluster.local'), ['example.com']);
  });

  it('answers NXDOMAIN and NODATA as such', async () => {
    await assert.rejects(resolver.resolve4('nope.default.svc.cluster.local'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve6('web.default.svc.cluster.local'), { code: 'ENODATA' });
    const nx = await udpQuery(server.port, query('nope.default.svc.cluster.local', Type.A));
    assert.equal(nx.header.rcode, Rcode.NXDOMAIN);
    assert.equal(nx.header.aa, true);
    assert.equal(nx.header.id, 4242);
    assert.equal(nx.authorities[0]!.type, Type.SOA);
  });

  it('answers over TCP', async () => {
    const a = await tcpQuery(server.port, query('_pg._tcp.db.default.svc.cluster.local', Type.SRV));
    assert.equal(a.header.rcode, Rcode.NOERROR);
    assert.equal(a.answers.length, 2);
    assert.equal(a.additionals.length, 2);
    const big = await tcpQuery(server.port, query('big.default.svc.cluster.local', Type.A));
    assert.equal(big.header.tc, false);
    assert.equal(big.answers.length, 300);
  });

  it('truncates big UDP answers so the resolver retries over TCP', async () => {
    const udp = await udpQuery(server.port, query('big.default.svc.cluster.local', Type.A));
    assert.equal(udp.header.tc, true);
    assert.ok(udp.answers.length < 300);
    assert.equal((await resolver.resolve4('big.default.svc.cluster.local')).length, 300);
  });

  it('follows the informers', async () => {
    await assert.rejects(resolver.resolve4('late.default.svc.cluster.local'), { code: 'ENOTFOUND' });
    await services.create(service('default', 'late', { clusterIP: '10.43.0.99', clusterIPs: ['10.43.0.99'] }));
    assert.deepEqual(await resolver.resolve4('late.default.svc.cluster.local'), ['10.43.0.99']);
    await services.delete('default', 'late');
    await assert.rejects(resolver.resolve4('late.default.svc.cluster.local'), { code: 'ENOTFOUND' });
  });

  it('keeps answering from the cache while the API server is away', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    services.failures.list = Array.from({ length: 50 }, () => down);
    services.failures.watch = Array.from({ length: 50 }, () => down);
    services.endWatches(down);
    assert.deepEqual(await resolver.resolve4('web.default.svc.cluster.local'), ['10.43.0.10']);
    services.failures.list = [];
    services.failures.watch = [];
  });

  it('forwards other names, skipping an upstream that does not answer', async () => {
    assert.deepEqual(await resolver.resolve4('example.com'), ['93.184.216.34']);
    assert.equal(upstream.seen.get('example.com'), 1);
    assert.deepEqual(await resolver.resolve4('example.com'), ['93.184.216.34']);
    assert.equal(upstream.seen.get('example.com'), 2, 'positive answers are not cached');
    // Reverse names with no cluster IP behind them go upstream too (fallthrough).
    await assert.rejects(resolver.reverse('192.168.1.1'), { code: 'ENOTFOUND' });
    assert.equal(upstream.seen.get('1.1.168.192.in-addr.arpa'), 1);
  });

  it('caches negative upstream answers for at most 30 s', async () => {
    await assert.rejects(resolver.resolve4('missing.example'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve4('missing.example'), { code: 'ENOTFOUND' });
    assert.equal(upstream.seen.get('missing.example'), 1);
    clock += 10_000;
    const cached = await udpQuery(server.port, query('missing.example', Type.A));
    assert.equal(cached.header.id, 4242);
    assert.equal(cached.header.rcode, Rcode.NXDOMAIN);
    assert.equal(cached.authorities[0]!.ttl, 890, 'TTLs count down while cached');
    assert.equal(upstream.seen.get('missing.example'), 1);
    clock += 21_000;
    await assert.rejects(resolver.resolve4('missing.example'), { code: 'ENOTFOUND' });
    assert.equal(upstream.seen.get('missing.example'), 2);
  });

  it('answers SERVFAIL when no upstream answers', async () => {
    const lonely = await startDnsServer({
      services: { list: () => [] }, endpointSlices: { list: () => [] },
      upstreams: [`127.0.0.1:${(deadUpstream.address() as net.AddressInfo).port}`], upstreamTimeoutMs: 100,
    });
    try {
      const a = await udpQuery(lonely.port, query('example.com', Type.A));
      assert.equal(a.header.rcode, Rcode.SERVFAIL);
      // In-memory sources without handlers are read on every query.
      assert.equal((await udpQuery(lonely.port, query('x.default.svc.cluster.local', Type.A))).header.rcode, Rcode.NXDOMAIN);
    } finally {
      await lonely.close();
    }
  });

  it('answers FORMERR to garbage with a header, and NOTIMP to other opcodes', async () => {
    const bad = Buffer.from('1234010000010000000000000341', 'hex');
    const got = await new Promise<Buffer>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (b) => { s.close(); resolve(b); });
      s.send(bad, server.port, '127.0.0.1');
    });
    assert.equal(got.readUInt16BE(0), 0x1234);
    assert.equal(got[3]! & 0xf, Rcode.FORMERR);
    const q = query('web.default.svc.cluster.local', Type.A);
    q.header.opcode = 2;
    assert.equal((await udpQuery(server.port, q)).header.rcode, Rcode.NOTIMP);
  });

  it('replays stored answers with each query\'s own id and the name as it was asked', async () => {
    for (const [id, name] of [[1, 'web.default.svc.cluster.local'], [2, 'WeB.default.SVC.cluster.local'], [3, 'web.default.svc.cluster.local'], [4, 'WeB.default.SVC.cluster.local']] as const) {
      const q = query(name, Type.A);
      q.header.id = id;
      const a = await udpQuery(server.port, q);
      assert.equal(a.header.id, id);
      assert.equal(a.questions[0]!.name, name);
      assert.equal(a.answers[0]!.name, name);
      assert.equal(a.answers[0]!.data, '10.43.0.10');
    }
  });

  it('answers SERVFAIL for cluster names until its sources are synced, and forwards the rest meanwhile', async () => {
    let ready = false;
    const early = await startDnsServer({
      services: svcInformer, endpointSlices: sliceInformer, ready: () => ready,
      upstreams: [`127.0.0.1:${upstream.port}`],
    });
    try {
      assert.equal((await udpQuery(early.port, query('web.default.svc.cluster.local', Type.A))).header.rcode, Rcode.SERVFAIL);
      assert.equal((await udpQuery(early.port, query('nope.default.svc.cluster.local', Type.A))).header.rcode, Rcode.SERVFAIL);
      assert.equal((await udpQuery(early.port, query('example.com', Type.A))).answers[0]!.data, '93.184.216.34');
      ready = true;
      assert.equal((await udpQuery(early.port, query('web.default.svc.cluster.local', Type.A))).answers[0]!.data, '10.43.0.10');
      assert.equal((await udpQuery(early.port, query('nope.default.svc.cluster.local', Type.A))).header.rcode, Rcode.NXDOMAIN);
    } finally {
      await early.close();
    }
  });

  it('parses upstreams and resolv.conf', () => {
    assert.deepEqual(parseUpstream('10.0.0.1'), { host: '10.0.0.1', port: 53 });
    assert.deepEqual(parseUpstream('10.0.0.1:5353'), { host: '10.0.0.1', port: 5353 });
    assert.deepEqual(parseUpstream('[fd00::1]:54'), { host: 'fd00::1', port: 54 });
    assert.deepEqual(parseUpstream('fd00::1'), { host: 'fd00::1', port: 53 });
    assert.deepEqual(resolvConfNameservers('# x\nnameserver 1.1.1.1\nsearch a b\nnameserver  fd00::1\noptions ndots:5\n'), ['1.1.1.1', 'fd00::1']);
  });
});
