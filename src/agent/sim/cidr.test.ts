import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CidrAllocator, fallbackPodCidr, formatIPv4, parseCidr, parseIPv4, simulatedHostIP } from './cidr.ts';

test('addresses skip .0 and .1 and the broadcast address', () => {
  const a = new CidrAllocator('10.42.3.0/24');
  assert.equal(a.capacity, 253);
  assert.equal(a.allocate(), '10.42.3.2');
  assert.equal(a.allocate(), '10.42.3.3');
  const all = new Set<string>(['10.42.3.2', '10.42.3.3']);
  for (let ip = a.allocate(); ip; ip = a.allocate()) all.add(ip);
  assert.equal(all.size, 253);
  assert.ok(!all.has('10.42.3.0') && !all.has('10.42.3.1') && !all.has('10.42.3.255'));
  assert.ok(all.has('10.42.3.254'));
  assert.equal(a.allocate(), undefined, 'used up');
});

test('released addresses are reused, never handed out twice', () => {
  const a = new CidrAllocator('10.42.0.0/29'); // .2 .. .6
  const ips = [a.allocate(), a.allocate(), a.allocate(), a.allocate(), a.allocate()];
  assert.deepEqual(ips, ['10.42.0.2', '10.42.0.3', '10.42.0.4', '10.42.0.5', '10.42.0.6']);
  assert.equal(a.allocate(), undefined);
  a.release('10.42.0.4');
  a.release('10.42.0.4'); // twice: no double entry
  a.release('192.168.0.9'); // not ours: ignored
  assert.equal(a.allocate(), '10.42.0.4');
  assert.equal(a.allocate(), undefined);
  assert.equal(a.used, 5);
});

test('reserve marks an address taken (pods found after a restart)', () => {
  const a = new CidrAllocator('10.42.1.0/24');
  assert.equal(a.reserve('10.42.1.2'), true);
  assert.equal(a.reserve('10.42.1.2'), false);
  assert.equal(a.reserve('10.42.2.2'), false);
  assert.equal(a.allocate(), '10.42.1.3');
});

test('CIDR parsing normalises the base and rejects nonsense', () => {
  assert.deepEqual(parseCidr('10.42.1.77/24'), { base: parseIPv4('10.42.1.0'), bits: 24, size: 256 });
  assert.equal(formatIPv4(parseIPv4('255.1.2.3')), '255.1.2.3');
  assert.throws(() => parseCidr('10.42.1.0'));
  assert.throws(() => parseIPv4('10.300.0.1'));
  assert.throws(() => new CidrAllocator('10.0.0.0/31'));
});

test('stand-in pod CIDRs and host IPs differ per node', () => {
  assert.equal(fallbackPodCidr(0), '100.64.0.0/24');
  assert.equal(fallbackPodCidr(257), '100.65.1.0/24');
  assert.equal(fallbackPodCidr(16383), '100.127.255.0/24');
  assert.equal(simulatedHostIP(0), '172.30.0.2');
  assert.equal(simulatedHostIP(300), '172.30.1.46');
  assert.notEqual(simulatedHostIP(4999), simulatedHostIP(5000));
});
