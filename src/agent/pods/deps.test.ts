import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { parseResolvConf, podDns } from './deps.ts';

const host = parseResolvConf('# comment\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example lab.example.\noptions ndots:2 edns0\n');
const cluster = { clusterDns: '10.43.0.10', clusterDomain: 'cluster.local' };
const p = (spec: Record<string, unknown>, namespace = 'team'): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace }, spec });

test('resolv.conf parsing', () => {
  assert.deepEqual(host, { servers: ['10.0.0.2', '10.0.0.3'], searches: ['corp.example', 'lab.example.'], options: ['ndots:2', 'edns0'] });
});

test('ClusterFirst (the default): cluster DNS only, the namespace search path then the node\'s, ndots:5', () => {
  const want = {
    servers: ['10.43.0.10'],
    searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
    options: ['ndots:5'],
  };
  assert.deepEqual(podDns(p({}), host, cluster), want);
  assert.deepEqual(podDns(p({ dnsPolicy: 'ClusterFirst' }), host, cluster), want);
  // No namespace on the object: the default one.
  assert.equal(podDns(p({}, ''), host, cluster).searches[0], 'default.svc.cluster.local');
  // A node search domain equal to a cluster one is listed once.
  assert.deepEqual(podDns(p({}), { ...host, searches: ['cluster.local', 'corp.example'] }, cluster).searches,
    ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example']);
});

test('hostNetwork: ClusterFirst falls back to the node\'s resolv.conf; ClusterFirstWithHostNet gets cluster DNS', () => {
  const node = { servers: ['10.0.0.2', '10.0.0.3'], searches: ['corp.example', 'lab.example'], options: ['ndots:2', 'edns0'] };
  assert.deepEqual(podDns(p({ hostNetwork: true }), host, cluster), node);
  assert.deepEqual(podDns(p({ hostNetwork: true, dnsPolicy: 'ClusterFirst' }), host, cluster), node);
  assert.deepEqual(podDns(p({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), host, cluster).servers, ['10.43.0.10']);
  // ClusterFirstWithHostNet on a pod network pod is ClusterFirst.
  assert.deepEqual(podDns(p({ dnsPolicy: 'ClusterFirstWithHostNet' }), host, cluster).servers, ['10.43.0.10']);
});

test('Default is the node\'s resolv.conf; without a cluster DNS ClusterFirst is too', () => {
  const node = { servers: ['10.0.0.2', '10.0.0.3'], searches: ['corp.example', 'lab.example'], options: ['ndots:2', 'edns0'] };
  assert.deepEqual(podDns(p({ dnsPolicy: 'Default' }), host, cluster), node);
  assert.deepEqual(podDns(p({}), host), node);
});

test('dnsPolicy None takes only dnsConfig; dnsConfig is appended (kubelet appendDNSConfig) and options override by name', () => {
  assert.deepEqual(podDns(p({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.b'], options: [{ name: 'ndots', value: '5' }] } }), host, cluster),
    { servers: ['1.1.1.1'], searches: ['a.b'], options: ['ndots:5'] });
  const merged = podDns(p({ dnsConfig: { nameservers: ['1.1.1.1', '10.43.0.10'], searches: ['a.b', 'cluster.local'], options: [{ name: 'ndots', value: '1' }, { name: 'rotate' }] } }), host, cluster);
  assert.deepEqual(merged.servers, ['10.43.0.10', '1.1.1.1']);
  assert.deepEqual(merged.searches, ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'a.b']);
  assert.deepEqual(merged.options, ['ndots:1', 'rotate']);
  assert.deepEqual(podDns(p({ dnsPolicy: 'Default', dnsConfig: { options: [{ name: 'ndots', value: '1' }, { name: 'rotate' }] } }), host, cluster).options,
    ['ndots:1', 'edns0', 'rotate']);
});

test('the kubelet\'s limits: 3 nameservers, 32 search domains, none over 253 chars, the line at most 2048', () => {
  const many = podDns(p({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'], searches: Array.from({ length: 40 }, (_, i) => `d${i}.example`) } }), host);
  assert.deepEqual(many.servers, ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
  assert.equal(many.searches.length, 32);
  assert.equal(many.searches[31], 'd31.example');
  const long = `${'a'.repeat(63)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example`; // 254 chars
  const filtered = podDns(p({ dnsPolicy: 'None', dnsConfig: { searches: ['ok.example', long, 'also.example'] } }), host);
  assert.deepEqual(filtered.searches, ['ok.example', 'also.example']);
  const wide = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(120)}.example`); // 131 chars each
  const cut = podDns(p({ dnsPolicy: 'None', dnsConfig: { searches: wide } }), host).searches;
  assert.ok(cut.join(' ').length <= 2048);
  assert.equal(cut.length, 15); // 15 × 131 + 14 spaces = 1979; 16 would be 2111
  assert.deepEqual(cut, wide.slice(0, 15));
});
