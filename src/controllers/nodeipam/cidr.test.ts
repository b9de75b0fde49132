import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, containsIP, formatCidr, formatIP, overlaps, parseCidr, parseIP, parseIPv4, parseIPv6 } from './cidr.ts';

test('IPv4 parse and format', () => {
  assert.equal(parseIPv4('10.42.1.0'), (10n << 24n) | (42n << 16n) | (1n << 8n));
  assert.equal(formatIP(parseIPv4('192.168.0.255')!, 4), '192.168.0.255');
  for (const bad of ['10.42.1', '256.0.0.1', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d', '']) assert.equal(parseIPv4(bad), undefined, bad);
});

test('IPv6 parse and format (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['::', '::'], ['::1', '::1'], ['fd00::', 'fd00::'], ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [input, want] of cases) assert.equal(formatIP(parseIPv6(input)!, 6), want, input);
  for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', ':1', '1:2:3:4:5:6:7']) assert.equal(parseIPv6(bad), undefined, bad);
  assert.equal(parseIP('10.0.0.1')?.family, 4);
  assert.equal(parseIP('fd00::1')?.family, 6);
  assert.equal(parseIP('nope'), undefined);
});

test('CIDR parse, contains, overlaps', () => {
  const c = parseCidr('10.42.0.0/16');
  assert.equal(formatCidr(c), '10.42.0.0/16');
  assert.ok(containsIP(c, parseIP('10.42.255.1')!));
  assert.ok(!containsIP(c, parseIP('10.43.0.1')!));
  assert.throws(() => parseCidr('10.42.0.1/16'), /host bits/);
  assert.throws(() => parseCidr('10.42.0.0/33'));
  assert.throws(() => parseCidr('10.42.0.0'));
  assert.ok(overlaps(c, parseCidr('10.42.3.0/24')));
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), c));
  assert.ok(!overlaps(c, parseCidr('10.43.0.0/16')));
  assert.ok(!overlaps(c, parseCidr('fd00::/8')));
  assert.equal(formatCidr(parseCidr('fd00:10:244::/56')), 'fd00:10:244::/56');
});

test('CidrSet hands out each block once, occupies and releases', () => {
  const set = new CidrSet(parseCidr('10.42.0.0/22'), 24);
  assert.equal(set.size, 4);
  assert.ok(set.occupy(parseCidr('10.42.1.0/24')));
  const got = [set.allocateNext(), set.allocateNext(), set.allocateNext()].map((c) => formatCidr(c!));
  assert.deepEqual(got, ['10.42.0.0/24', '10.42.2.0/24', '10.42.3.0/24']);
  assert.equal(set.allocateNext(), undefined);
  assert.ok(set.full);
  set.release(parseCidr('10.42.2.0/24'));
  assert.equal(formatCidr(set.allocateNext()!), '10.42.2.0/24');
  // A range outside is refused; one overlapping several blocks takes them all.
  assert.equal(set.occupy(parseCidr('10.43.0.0/24')), false);
  const wide = new CidrSet(parseCidr('10.42.0.0/16'), 24);
  wide.occupy(parseCidr('10.42.0.0/23'));
  assert.equal(wide.used, 2);
  assert.equal(formatCidr(wide.allocateNext()!), '10.42.2.0/24');
  assert.throws(() => new CidrSet(parseCidr('10.42.0.0/16'), 8));
});

test('CidrSet over IPv6', () => {
  const set = new CidrSet(parseCidr('fd00:42::/56'), 64);
  assert.equal(set.size, 256);
  assert.equal(formatCidr(set.allocateNext()!), 'fd00:42::/64');
  assert.equal(formatCidr(set.allocateNext()!), 'fd00:42:0:1::/64');
});
