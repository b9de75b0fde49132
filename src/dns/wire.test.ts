import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Class, Type, WireError, decode, encode, encodeTruncated, formatIPv6, ipv6Bytes, message, optRecord, udpSizeOf,
  type ResourceRecord,
} from './wire.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const rr = (name: string, type: number, data: ResourceRecord['data'], ttl = 30): ResourceRecord => ({ name, type, class: Class.IN, ttl, data });

describe('wire', () => {
  it('round-trips every record type it knows', () => {
    const m = message({
      header: { id: 0xbeef, qr: true, aa: true, rd: true, ra: true, rcode: 3 },
      questions: [{ name: 'web.default.svc.cluster.local', type: Type.A, class: Class.IN }],
      answers: [
        rr('web.default.svc.cluster.local', Type.A, '10.43.0.10'),
        rr('web.default.svc.cluster.local', Type.AAAA, 'fd00::a'),
        rr('_http._tcp.web.default.svc.cluster.local', Type.SRV, { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }),
        rr('10.0.43.10.in-addr.arpa', Type.PTR, 'web.default.svc.cluster.local'),
        rr('ext.default.svc.cluster.local', Type.CNAME, 'example.com'),
        rr('dns-version.cluster.local', Type.TXT, ['1.1.0', 'second']),
        rr('x.cluster.local', 99, Uint8Array.from([1, 2, 3])),
      ],
      authorities: [
        rr('cluster.local', Type.SOA, { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 123, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 }),
        rr('cluster.local', Type.NS, 'ns.dns.cluster.local'),
      ],
      additionals: [optRecord(1232)],
    });
    const buf = encode(m);
    const back = decode(buf);
    assert.deepEqual(back, m);
    assert.equal(udpSizeOf(back), 1232);
    // Compression: "cluster" is written once, plus once more in the SRV target, which
    // RFC 2782 says is never compressed.
    assert.equal(buf.toString('latin1').split('cluster').length - 1, 2);
  });

  it('decodes a captured query and answer (example.com A)', () => {
    const q = decode(hex('1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001'));
    assert.equal(q.header.id, 0x1234);
    assert.equal(q.header.rd, true);
    assert.deepEqual(q.questions, [{ name: 'example.com', type: 1, class: 1 }]);
    const a = decode(hex('1234 8180 0001 0001 0000 0000 076578616d706c6503636f6d00 0001 0001 c00c 0001 0001 00000e10 0004 5db8d822'));
    assert.equal(a.header.qr, true);
    assert.equal(a.header.ra, true);
    assert.deepEqual(a.answers, [{ name: 'example.com', type: 1, class: 1, ttl: 3600, data: '93.184.216.34' }]);
  });

  it('follows the compression pointers of RFC 1035 §4.1.4', () => {
    // F.ISI.ARPA at offset 12, FOO.F.ISI.ARPA as "FOO" + pointer to 12, ARPA as a pointer to 18.
    const buf = hex('0000 0000 0003 0000 0000 0000'
      + '0146 03495349 0441525041 00 0001 0001'
      + '03464f4f c00c 0001 0001'
      + 'c012 0002 0001');
    const m = decode(buf);
    assert.deepEqual(m.questions.map((q) => q.name), ['F.ISI.ARPA', 'FOO.F.ISI.ARPA', 'ARPA']);
  });

  it('rejects pointer loops and forward pointers', () => {
    assert.throws(() => decode(hex('0000 0000 0001 0000 0000 0000 c00c 0001 0001')), WireError);
    assert.throws(() => decode(hex('0000 0000 0001 0000 0000 0000 c010 0001 0001 0000')), WireError);
    assert.throws(() => decode(hex('0000 0000 0001 0000 0000 0000 03616263')), WireError);
    assert.throws(() => decode(hex('0000')), WireError);
  });

  it('decodes unknown types and OPT as raw data', () => {
    const m = decode(hex('0001 8000 0000 0001 0000 0001 00 0063 0001 0000001e 0002 abcd 00 0029 1000 00000000 0000'));
    assert.deepEqual(m.answers[0], { name: '', type: 99, class: 1, ttl: 30, data: Uint8Array.from([0xab, 0xcd]) });
    assert.equal(m.additionals[0]!.type, Type.OPT);
    assert.equal(udpSizeOf(m), 4096);
  });

  it('truncates UDP answers that do not fit, setting TC', () => {
    const answers = Array.from({ length: 100 }, (_, i) => rr('big.default.svc.cluster.local', Type.A, `10.0.0.${i}`));
    const m = message({ header: { qr: true }, questions: [{ name: 'big.default.svc.cluster.local', type: Type.A, class: 1 }], answers });
    const full = encode(m);
    assert.ok(full.length > 512);
    const cut = decode(encodeTruncated(m, 512));
    assert.equal(cut.header.tc, true);
    assert.ok(encodeTruncated(m, 512).length <= 512);
    assert.ok(cut.answers.length > 0 && cut.answers.length < 100);
    assert.equal(decode(encodeTruncated(m, 4096)).header.tc, false);
  });

  it('writes and reads IPv6 addresses', () => {
    for (const [ip, text] of [['fd00::1', 'fd00::1'], ['::', '::'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['::ffff:10.0.0.1', '::ffff:a00:1'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8']]) {
      assert.equal(formatIPv6(ipv6Bytes(ip!)), text);
    }
  });
});
