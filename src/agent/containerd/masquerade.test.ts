import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { masqueradeRule, staleMasqueradeRules } from './masquerade.ts';

const listing = `-P POSTROUTING ACCEPT
-A POSTROUTING -s 10.1.0.0/24 ! -d 10.1.0.0/24 -m addrtype ! --dst-type MULTICAST -m comment --comment "name: \\"skiff-abc\\" pod traffic leaving the node" -j MASQUERADE
-A POSTROUTING -s 10.1.0.0/24 ! -d 10.1.0.0/17 -m addrtype ! --dst-type MULTICAST -m comment --comment "name: \\"skiff-abc\\" pod traffic leaving the node" -j MASQUERADE
-A POSTROUTING -s 10.1.9.0/24 ! -d 10.1.0.0/17 -m addrtype ! --dst-type MULTICAST -m comment --comment "name: \\"skiff-abc\\" pod traffic leaving the node" -j MASQUERADE
-A POSTROUTING -s 10.1.0.0/24 ! -d 10.1.0.0/24 -m addrtype ! --dst-type MULTICAST -m comment --comment "name: \\"skiff-other\\" pod traffic leaving the node" -j MASQUERADE
`;

test('the rule does not masquerade traffic to the cluster CIDR', () => {
  const r = masqueradeRule('skiff-abc', '10.1.0.0/24', '10.1.0.0/17');
  assert.deepEqual(r.slice(0, 4), ['-s', '10.1.0.0/24', '!', '-d']);
  assert.equal(r[4], '10.1.0.0/17');
  assert.ok(r.join(' ').includes('name: "skiff-abc"'));
});

test('the old form and old pod CIDRs of our network are stale; the current rule and other agents are not', () => {
  const stale = staleMasqueradeRules(listing, 'skiff-abc', '10.1.0.0/24', '10.1.0.0/17');
  assert.equal(stale.length, 2);
  assert.ok(stale[0]!.includes('! -d 10.1.0.0/24'));
  assert.ok(stale[1]!.includes('-s 10.1.9.0/24'));
  assert.ok(stale.every((l) => l.includes('skiff-abc')));
});

test('an upgraded agent replaces the old rule form with the cluster-wide one and leaves other networks alone', { skip: process.getuid?.() !== 0 ? 'needs root' : undefined }, () => {
  const ns = `skm${process.pid}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-masq-'));
  const nat = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-w', '5', '-t', 'nat', ...args], { encoding: 'utf8' });
  const comment = (net: string) => `name: "${net}" pod traffic leaving the node`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    // what the previous version installed, for us and for another agent
    nat('-A', 'POSTROUTING', '-s', '10.1.0.0/24', '!', '-d', '10.1.0.0/24', '-m', 'comment', '--comment', comment('skiff-abc'), '-j', 'MASQUERADE');
    nat('-A', 'POSTROUTING', '-s', '10.2.0.0/24', '!', '-d', '10.2.0.0/24', '-m', 'comment', '--comment', comment('skiff-other'), '-j', 'MASQUERADE');
    const file = path.join(dir, 'run.mts');
    writeFileSync(file, `import { ensurePodMasquerade } from ${JSON.stringify(path.join(import.meta.dirname, 'masquerade.ts'))};
await ensurePodMasquerade('skiff-abc', '10.1.0.0/24', '10.1.0.0/17');
await ensurePodMasquerade('skiff-abc', '10.1.0.0/24', '10.1.0.0/17');
`);
    execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', file], { cwd: path.resolve(import.meta.dirname, '../../..') });
    const rules = nat('-S', 'POSTROUTING').split('\n').filter((l) => l.startsWith('-A'));
    assert.equal(rules.length, 2, rules.join('\n'));
    assert.ok(rules.some((l) => l.startsWith('-A POSTROUTING -s 10.1.0.0/24 ! -d 10.1.0.0/17 ') && l.includes('skiff-abc')), rules.join('\n'));
    assert.ok(rules.some((l) => l.startsWith('-A POSTROUTING -s 10.2.0.0/24 ! -d 10.2.0.0/24 ') && l.includes('skiff-other')), rules.join('\n'));
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
