import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { allows, computeModel, type Connection } from './model.ts';
import { ipBlockRanges, formatRange, mergeRanges, parseIpv4 } from './ipblock.ts';

const NODE = 'n1';

function pod(ns: string, name: string, ip: string, labels: Record<string, string> = {}, extra: { node?: string; ports?: any[]; phase?: string; hostNetwork?: boolean } = {}): KObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { namespace: ns, name, labels },
    spec: { nodeName: extra.node ?? NODE, hostNetwork: extra.hostNetwork, containers: [{ name: 'c', ports: extra.ports ?? [] }] },
    status: { phase: extra.phase ?? 'Running', podIP: ip },
  };
}
const ns = (name: string, labels: Record<string, string> = {}): KObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
function np(namespace: string, name: string, spec: any): KObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

const server = pod('app', 'server', '10.0.0.10', { role: 'server' }, { ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] });
const server2 = pod('app', 'server2', '10.0.0.11', { role: 'server' }, { ports: [{ name: 'http', containerPort: 9090 }] });
const client = pod('app', 'client', '10.0.0.20', { role: 'client' });
const other = pod('app', 'other', '10.0.0.21', { role: 'other' });
const remoteClient = pod('app', 'remote', '10.0.1.20', { role: 'client' }, { node: 'n2' });
const monitor = pod('mon', 'prom', '10.0.1.30', { app: 'prom' }, { node: 'n2' });
const monOther = pod('mon', 'x', '10.0.1.31', { app: 'x' }, { node: 'n2' });
const PODS = [server, server2, client, other, remoteClient, monitor, monOther];
const NSS = [ns('app'), ns('mon', { team: 'ops' }), ns('dev', { team: 'dev' })];

function model(policies: KObject[], pods = PODS) {
  return computeModel({ policies, pods, namespaces: NSS, nodeName: NODE });
}
const tcp = (src: string, dst: string, port: number): Connection => ({ src, dst, protocol: 'TCP', port });

test('no policy: nothing isolated, everything allowed', () => {
  const m = model([]);
  assert.deepEqual(m, { policies: [], isolated: [] });
  assert.ok(allows(m, tcp('1.2.3.4', '10.0.0.10', 80)));
});

test('deny-all (empty podSelector, no ingress rules) isolates every local pod of its namespace only', () => {
  const m = model([np('app', 'deny', { podSelector: {}, policyTypes: ['Ingress'] })]);
  assert.deepEqual(m.isolated, ['10.0.0.10', '10.0.0.11', '10.0.0.20', '10.0.0.21']); // not the n2 pods
  assert.deepEqual(m.policies[0]!.rules, []);
  assert.ok(!allows(m, tcp('10.0.0.20', '10.0.0.10', 8080)));
  assert.ok(allows(m, tcp('10.0.0.20', '10.0.1.30', 8080)), 'pods of other nodes are their node\'s business');
});

test('egress-only policies do not isolate for ingress; missing policyTypes means Ingress', () => {
  assert.deepEqual(model([np('app', 'e', { podSelector: {}, policyTypes: ['Egress'], egress: [] })]).isolated, []);
  assert.equal(model([np('app', 'd', { podSelector: {} })]).isolated.length, 4);
});

test('podSelector peers match pods of the policy namespace on any node; matchExpressions in both selectors', () => {
  const m = model([np('app', 'allow', {
    podSelector: { matchExpressions: [{ key: 'role', operator: 'In', values: ['server'] }] },
    ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }],
  })]);
  assert.deepEqual(m.isolated, ['10.0.0.10', '10.0.0.11']);
  assert.deepEqual(m.policies[0]!.rules[0]!.podIPs, ['10.0.0.20', '10.0.1.20']);
  assert.ok(allows(m, tcp('10.0.0.20', '10.0.0.10', 1)));
  assert.ok(allows(m, tcp('10.0.1.20', '10.0.0.11', 1)));
  assert.ok(!allows(m, tcp('10.0.0.21', '10.0.0.10', 1)));
  assert.ok(allows(m, tcp('10.0.0.21', '10.0.0.20', 1)), 'client is not selected');

  const notIn = model([np('app', 'p', {
    podSelector: { matchExpressions: [{ key: 'role', operator: 'NotIn', values: ['server'] }, { key: 'role', operator: 'Exists' }] },
    ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] } }] }],
  })]);
  assert.deepEqual(notIn.isolated, ['10.0.0.20', '10.0.0.21']);
  assert.deepEqual(notIn.policies[0]!.rules[0]!.podIPs, ['10.0.0.10', '10.0.0.11', '10.0.0.20', '10.0.0.21', '10.0.1.20'], 'app namespace pods only');
});

test('namespaceSelector alone, with podSelector (AND), and by kubernetes.io/metadata.name', () => {
  const nsOnly = model([np('app', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }] })]);
  assert.deepEqual(nsOnly.policies[0]!.rules[0]!.podIPs, ['10.0.1.30', '10.0.1.31']);
  const both = model([np('app', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'prom' } } }] }] })]);
  assert.deepEqual(both.policies[0]!.rules[0]!.podIPs, ['10.0.1.30']);
  const byName = model([np('app', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mon' } } }] }] })]);
  assert.deepEqual(byName.policies[0]!.rules[0]!.podIPs, ['10.0.1.30', '10.0.1.31']);
  const allNs = model([np('app', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] })]);
  assert.equal(allNs.policies[0]!.rules[0]!.podIPs.length, PODS.length);
  // two separate peers are OR-ed
  const either = model([np('app', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }, { podSelector: { matchLabels: { role: 'client' } } }] }] })]);
  assert.deepEqual(either.policies[0]!.rules[0]!.podIPs, ['10.0.0.20', '10.0.1.20', '10.0.1.30', '10.0.1.31']);
});

test('pods without an IP, finished, or on the host network are neither targets nor peers', () => {
  const pods = [
    server, pod('app', 'pending', '', { role: 'client' }), pod('app', 'done', '10.0.0.40', { role: 'client' }, { phase: 'Succeeded' }),
    pod('app', 'host', '192.168.1.5', { role: 'client' }, { hostNetwork: true }),
  ];
  const m = model([np('app', 'p', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] })], pods);
  assert.deepEqual(m.isolated, ['10.0.0.10']);
  assert.deepEqual(m.policies[0]!.rules[0]!.podIPs, []);
});

test('ipBlock with except becomes disjoint ranges', () => {
  assert.deepEqual(ipBlockRanges('10.0.0.0/24', ['10.0.0.16/28', '10.0.0.128/25']).map(formatRange), ['10.0.0.0-10.0.0.15', '10.0.0.32-10.0.0.127']);
  assert.deepEqual(ipBlockRanges('10.0.0.7/32').map(formatRange), ['10.0.0.7']);
  assert.deepEqual(ipBlockRanges('10.0.0.5/24').map(formatRange), ['10.0.0.0-10.0.0.255'], 'host bits dropped');
  assert.deepEqual(ipBlockRanges('0.0.0.0/0', ['10.0.0.0/8']).map(formatRange), ['0.0.0.0-9.255.255.255', '11.0.0.0-255.255.255.255']);
  assert.deepEqual(ipBlockRanges('fd00::/8'), []);
  assert.deepEqual(mergeRanges([{ start: 5, end: 9 }, { start: 1, end: 4 }, { start: 20, end: 30 }, { start: 25, end: 26 }]), [{ start: 1, end: 9 }, { start: 20, end: 30 }]);

  const m = model([np('app', 'p', {
    podSelector: { matchLabels: { role: 'server' } },
    ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }, { ipBlock: { cidr: '192.168.0.0/24' } }] }],
  })]);
  assert.deepEqual(m.policies[0]!.rules[0]!.ranges, ['192.168.0.0-192.168.0.255', '192.168.2.0-192.168.255.255']);
  assert.equal(m.policies[0]!.rules[0]!.podPeers, false);
  assert.ok(allows(m, tcp('192.168.7.1', '10.0.0.10', 80)));
  assert.ok(!allows(m, tcp('192.168.1.1', '10.0.0.10', 80)));
});

test('ports: number, protocol default TCP, UDP, endPort ranges, protocol-only, and any port', () => {
  const m = model([np('app', 'p', {
    podSelector: { matchLabels: { role: 'server' } },
    ingress: [
      { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 80 }, { protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 9000, endPort: 9010 }] },
      { from: [{ podSelector: { matchLabels: { role: 'other' } } }], ports: [{ protocol: 'SCTP' }] },
      { ports: [{ port: 7000 }] },
    ],
  })]);
  const [r0, r1, r2] = m.policies[0]!.rules;
  assert.deepEqual(r0!.ports, [{ protocol: 'TCP', port: 80 }, { protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 9000, endPort: 9010 }]);
  assert.deepEqual(r1!.ports, [{ protocol: 'SCTP' }]);
  assert.equal(r2!.anySource, true);
  const c = '10.0.0.20'; const s = '10.0.0.10';
  assert.ok(allows(m, tcp(c, s, 80)));
  assert.ok(!allows(m, tcp(c, s, 81)));
  assert.ok(allows(m, { src: c, dst: s, protocol: 'UDP', port: 53 }));
  assert.ok(!allows(m, tcp(c, s, 53)), 'UDP port does not open TCP');
  assert.ok(allows(m, tcp(c, s, 9000)) && allows(m, tcp(c, s, 9010)) && !allows(m, tcp(c, s, 9011)));
  assert.ok(allows(m, { src: '10.0.0.21', dst: s, protocol: 'SCTP', port: 1234 }));
  assert.ok(!allows(m, tcp('10.0.0.21', s, 80)));
  assert.ok(allows(m, tcp('8.8.8.8', s, 7000)), 'empty from: any source');
  assert.ok(!allows(m, tcp('8.8.8.8', s, 7001)));
});

test('named ports resolve per selected pod, protocol included', () => {
  const m = model([np('app', 'p', {
    podSelector: { matchLabels: { role: 'server' } },
    ingress: [{ ports: [{ port: 'http' }, { port: 'dns', protocol: 'UDP' }, { port: 'dns' }] }],
  })]);
  const r = m.policies[0]!.rules[0]!;
  assert.equal(r.namedPorts, true);
  assert.deepEqual(r.named, [
    { protocol: 'UDP', ip: '10.0.0.10', port: 53 }, { protocol: 'TCP', ip: '10.0.0.10', port: 8080 }, { protocol: 'TCP', ip: '10.0.0.11', port: 9090 },
  ]);
  assert.ok(allows(m, tcp('1.1.1.1', '10.0.0.10', 8080)));
  assert.ok(!allows(m, tcp('1.1.1.1', '10.0.0.10', 9090)), "server2's number is not server's");
  assert.ok(allows(m, tcp('1.1.1.1', '10.0.0.11', 9090)));
  assert.ok(!allows(m, tcp('1.1.1.1', '10.0.0.10', 53)), 'dns is UDP only');
});

test('several policies are a union; a deny-all plus an allow lets the allowed in', () => {
  const deny = np('app', 'deny', { podSelector: {} });
  const allowClient = np('app', 'allow-client', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080 }] }] });
  const allowMon = np('app', 'allow-mon', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }] });
  const m = model([deny, allowClient, allowMon]);
  assert.deepEqual(m.policies.map((p) => p.key), ['app/allow-client', 'app/allow-mon', 'app/deny']);
  assert.ok(allows(m, tcp('10.0.0.20', '10.0.0.10', 8080)));
  assert.ok(!allows(m, tcp('10.0.0.20', '10.0.0.10', 22)));
  assert.ok(allows(m, tcp('10.0.1.31', '10.0.0.10', 22)));
  assert.ok(!allows(m, tcp('10.0.0.21', '10.0.0.10', 8080)));
  assert.ok(!allows(m, tcp('10.0.0.10', '10.0.0.20', 8080)), 'client is isolated by deny and allowed by nothing');
  // a policy in another namespace selecting nothing here changes nothing
  assert.deepEqual(model([np('dev', 'x', { podSelector: {} })]).policies, []);
});

test('parseIpv4 takes dotted quads only', () => {
  assert.equal(parseIpv4('10.0.0.1'), 167772161);
  assert.equal(parseIpv4('255.255.255.255'), 4294967295);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '1.2.3.4 ', '', '1.2.3.0004', 'fd00::1']) assert.equal(parseIpv4(bad), undefined, bad);
});
