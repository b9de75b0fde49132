import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { NetpolModel, RuleModel } from './model.ts';
import { desiredState, policyId, renderFull, renderUpdate } from './render.ts';

const T = 'skiff-np-test0001';
const rule = (r: Partial<RuleModel>): RuleModel => ({
  anySource: false, podPeers: false, podIPs: [], ranges: [], anyPort: false, ports: [], namedPorts: false, named: [], ...r,
});
const base: NetpolModel = {
  isolated: ['10.0.0.10', '10.0.0.11'],
  policies: [{
    key: 'app/web',
    targets: ['10.0.0.10', '10.0.0.11'],
    rules: [
      rule({ podPeers: true, podIPs: ['10.0.0.20'], ranges: ['192.168.0.0-192.168.0.255'], ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'UDP', port: 5000, endPort: 5010 }, { protocol: 'SCTP' }] }),
      rule({ anySource: true, namedPorts: true, named: [{ protocol: 'TCP', ip: '10.0.0.10', port: 8080 }] }),
      rule({ anySource: true, anyPort: true }),
    ],
  }],
};
const opts = { nodeIPs: ['192.168.50.2', '10.0.0.1'] };
const id = policyId('app/web');

test('rules refer to sets; ports, ranges and named ports become matches', () => {
  const s = desiredState(base, opts);
  assert.deepEqual(s.rules, [
    'ct state established,related accept',
    'ip saddr @node accept',
    `ip daddr @${id}_dst ip saddr @${id}_r0_pods meta l4proto tcp th dport 80 accept`,
    `ip daddr @${id}_dst ip saddr @${id}_r0_pods meta l4proto udp th dport 5000-5010 accept`,
    `ip daddr @${id}_dst ip saddr @${id}_r0_pods meta l4proto sctp accept`,
    `ip daddr @${id}_dst ip saddr @${id}_r0_net meta l4proto tcp th dport 80 accept`,
    `ip daddr @${id}_dst ip saddr @${id}_r0_net meta l4proto udp th dport 5000-5010 accept`,
    `ip daddr @${id}_dst ip saddr @${id}_r0_net meta l4proto sctp accept`,
    `ip daddr @${id}_dst ip daddr . meta l4proto . th dport @${id}_r1_named accept`,
    `ip daddr @${id}_dst accept`,
    'counter drop',
  ]);
  assert.deepEqual(s.sets.get('node')!.elements, ['10.0.0.1', '192.168.50.2']);
  assert.deepEqual(s.sets.get(`${id}_r0_net`), { type: 'ipv4_addr', interval: true, elements: ['192.168.0.0-192.168.0.255'] });
  assert.deepEqual(s.sets.get(`${id}_r1_named`)!.elements, ['10.0.0.10 . tcp . 8080']);
  assert.deepEqual(s.sets.get('isolated')!.elements, ['10.0.0.10', '10.0.0.11']);
});

test('an isolated pod with no rules is dropped: a policy without ingress rules adds no accept', () => {
  const s = desiredState({ isolated: ['10.0.0.10'], policies: [{ key: 'a/deny', targets: ['10.0.0.10'], rules: [] }] }, opts);
  assert.deepEqual(s.rules, ['ct state established,related accept', 'ip saddr @node accept', 'counter drop']);
});

test('the full script replaces the table in one go and nft accepts it', () => {
  const script = renderFull(T, desiredState(base, opts));
  assert.match(script, /^table inet skiff-np-test0001 \{\}\ndelete table inet skiff-np-test0001\n/);
  assert.match(script, /type filter hook forward priority filter; policy accept;\n {4}ip daddr @isolated jump ingress/);
  if (process.getuid?.() !== 0) return; // nft -c needs root; the kernel-level test covers it too
  const check = spawnSync('nft', ['-c', '-f', '-'], { input: script, encoding: 'utf8' });
  if (check.error) return; // no nft binary
  assert.equal(check.status, 0, check.stderr);
});

test('pod churn only changes set elements; the chain is left alone', () => {
  const prev = desiredState(base, opts);
  const churned: NetpolModel = structuredClone(base);
  churned.isolated = ['10.0.0.10', '10.0.0.12'];
  churned.policies[0]!.targets = ['10.0.0.10', '10.0.0.12'];
  churned.policies[0]!.rules[0]!.podIPs = ['10.0.0.20', '10.0.0.21'];
  churned.policies[0]!.rules[1]!.named = [];
  const script = renderUpdate(T, prev, desiredState(churned, opts));
  assert.equal(script, [
    'delete element inet skiff-np-test0001 isolated { 10.0.0.11 }',
    'add element inet skiff-np-test0001 isolated { 10.0.0.12 }',
    `delete element inet skiff-np-test0001 ${id}_dst { 10.0.0.11 }`,
    `add element inet skiff-np-test0001 ${id}_dst { 10.0.0.12 }`,
    `add element inet skiff-np-test0001 ${id}_r0_pods { 10.0.0.21 }`,
    `delete element inet skiff-np-test0001 ${id}_r1_named { 10.0.0.10 . tcp . 8080 }`,
  ].join('\n') + '\n');
  assert.equal(renderUpdate(T, prev, desiredState(base, opts)), '', 'no change, no script');
});

test('a policy change flushes and rewrites the chain, dropping the sets it no longer uses', () => {
  const prev = desiredState(base, opts);
  const next = desiredState({ isolated: ['10.0.0.10'], policies: [{ key: 'app/other', targets: ['10.0.0.10'], rules: [rule({ anySource: true, ports: [{ protocol: 'TCP', port: 22 }] })] }] }, opts);
  const lines = renderUpdate(T, prev, next).trim().split('\n');
  assert.equal(lines[0], 'flush chain inet skiff-np-test0001 ingress');
  const deletes = lines.filter((l) => l.startsWith('delete set')).map((l) => l.split(' ').pop());
  assert.deepEqual(deletes.sort(), [`${id}_dst`, `${id}_r0_net`, `${id}_r0_pods`, `${id}_r1_named`].sort());
  const other = policyId('app/other');
  assert.ok(lines.includes(`add set inet skiff-np-test0001 ${other}_dst { type ipv4_addr; elements = { 10.0.0.10 }; }`), lines.join('\n'));
  assert.deepEqual(lines.filter((l) => l.startsWith('add rule')), next.rules.map((r) => `add rule inet skiff-np-test0001 ingress ${r}`));
  assert.ok(lines.indexOf('flush chain inet skiff-np-test0001 ingress') < lines.findIndex((l) => l.startsWith('delete set')));
});

test('changed ipBlock ranges replace the interval set whole', () => {
  const prev = desiredState(base, opts);
  const m: NetpolModel = structuredClone(base);
  m.policies[0]!.rules[0]!.ranges = ['192.168.0.0-192.168.0.127'];
  assert.equal(renderUpdate(T, prev, desiredState(m, opts)),
    `flush set inet skiff-np-test0001 ${id}_r0_net\nadd element inet skiff-np-test0001 ${id}_r0_net { 192.168.0.0-192.168.0.127 }\n`);
});
