import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { NetworkInterfaceInfo } from 'node:os';
import { canonicalIp, missingSans, sansOfCertificate, wantedServingSans } from './subject-alt-names.ts';
import { createCertificateAuthority, issueServingCertificate } from './issue-certificates.ts';

function iface(address: string, family: 'IPv4' | 'IPv6', internal: boolean): NetworkInterfaceInfo {
  const common = { address, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}

test('canonicalIp gives one spelling per address and rejects names', () => {
  assert.equal(canonicalIp('127.0.0.1'), '127.0.0.1');
  assert.equal(canonicalIp('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(canonicalIp('0:0:0:0:0:0:0:1'), '0:0:0:0:0:0:0:1');
  assert.equal(canonicalIp('FD00:0000::0002'), 'fd00:0:0:0:0:0:0:2');
  assert.equal(canonicalIp('fe80::1%eth0'), 'fe80:0:0:0:0:0:0:1');
  assert.equal(canonicalIp('::ffff:10.1.2.3'), '0:0:0:0:0:ffff:a01:203');
  assert.equal(canonicalIp('localhost'), undefined);
  assert.equal(canonicalIp('300.1.1.1'), undefined);
});

test('wantedServingSans has the built-in names, the host, external addresses and extras', () => {
  const sans = wantedServingSans({
    hostname: 'Node-A',
    interfaces: {
      lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
      eth0: [iface('10.0.0.5', 'IPv4', false), iface('fd00::5', 'IPv6', false)],
      docker0: [iface('172.17.0.1', 'IPv4', false)],
    },
    extraSans: ['skiff.example.com', '192.168.7.7', '[2001:db8::1]', ' ', 'LOCALHOST'],
  });
  assert.deepEqual(sans.dns, [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    'node-a',
    'skiff.example.com',
  ]);
  assert.deepEqual(sans.ips, [
    '127.0.0.1',
    '0:0:0:0:0:0:0:1',
    '10.0.0.5',
    'fd00:0:0:0:0:0:0:5',
    '172.17.0.1',
    '192.168.7.7',
    '2001:db8:0:0:0:0:0:1',
  ]);
});

test('sansOfCertificate reads back what was issued, and missingSans finds the gap', async () => {
  const want = { dns: ['localhost', 'kubernetes'], ips: ['127.0.0.1', '0:0:0:0:0:0:0:1', 'fd00:0:0:0:0:0:0:2'] };
  const now = new Date();
  const ca = await createCertificateAuthority(now);
  const serving = await issueServingCertificate(ca, want, now);
  const have = sansOfCertificate(new X509Certificate(serving.certPem));
  assert.deepEqual(have, want);
  assert.deepEqual(missingSans(have, want), []);
  assert.deepEqual(missingSans(have, { dns: ['localhost', 'new.example'], ips: ['10.9.9.9', '127.0.0.1'] }), [
    'DNS:new.example',
    'IP:10.9.9.9',
  ]);
});
