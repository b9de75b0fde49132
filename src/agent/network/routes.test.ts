import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KObject } from '../../api/object.ts';
import { cidrWithin, planRoutes, routeCommands, ROUTE_PROTO } from './routes.ts';

function node(name: string, podCIDR?: string, ip?: string): KObject {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name },
    spec: podCIDR ? { podCIDR } : {},
    status: { addresses: [...(ip ? [{ type: 'InternalIP', address: ip }] : []), { type: 'Hostname', address: name }] },
  } as KObject;
}

const self = { nodeName: 'a', podCidr: '10.42.0.0/24', clusterCidr: '10.42.0.0/16' };
const local = { addresses: ['192.168.1.10'], subnets: ['192.168.1.0/24'] };

test('routes go to other nodes on a connected subnet, inside the cluster CIDR', () => {
  const plan = planRoutes([
    node('a', '10.42.0.0/24', '192.168.1.10'),
    node('b', '10.42.1.0/24', '192.168.1.11'),
    node('c', '10.42.2.0/24', '192.168.1.12'),
    node('no-cidr', undefined, '192.168.1.13'),
  ], self, local);
  assert.deepEqual(plan.routes, [{ dst: '10.42.1.0/24', via: '192.168.1.11' }, { dst: '10.42.2.0/24', via: '192.168.1.12' }]);
  assert.deepEqual(plan.skipped, []);
});

test('simulated nodes, our own address, foreign CIDRs and duplicates get no route and a reason', () => {
  const plan = planRoutes([
    node('sim-0', '10.42.5.0/24', '172.30.0.2'), // skiff sim: not on our subnet
    node('same-ip', '10.42.6.0/24', '192.168.1.10'),
    node('outside', '10.99.0.0/24', '192.168.1.20'),
    node('d1', '10.42.7.0/24', '192.168.1.21'),
    node('d2', '10.42.7.0/24', '192.168.1.22'),
    node('mine', '10.42.0.0/24', '192.168.1.23'),
    node('no-ip', '10.42.8.0/24'),
  ], self, local);
  assert.deepEqual(plan.routes, [{ dst: '10.42.7.0/24', via: '192.168.1.21' }]);
  const reasons = Object.fromEntries(plan.skipped.map((s) => [s.node, s.reason]));
  assert.match(reasons['sim-0']!, /not on a subnet/);
  assert.match(reasons['same-ip']!, /address of this machine/);
  assert.match(reasons.outside!, /outside the cluster CIDR/);
  assert.match(reasons.d2!, /another node already/);
  assert.match(reasons.mine!, /ours/);
  assert.match(reasons['no-ip']!, /no IPv4 InternalIP/);
});

test('commands: replace what is new or moved, delete what is gone, nothing when equal', () => {
  const current = [{ dst: '10.42.1.0/24', via: '192.168.1.11' }, { dst: '10.42.2.0/24', via: '192.168.1.12' }, { dst: '10.42.3.0/24', via: '192.168.1.13' }];
  const desired = [{ dst: '10.42.1.0/24', via: '192.168.1.11' }, { dst: '10.42.2.0/24', via: '192.168.1.99' }, { dst: '10.42.4.0/24', via: '192.168.1.14' }];
  assert.deepEqual(routeCommands(current, desired), [
    `route del 10.42.2.0/24 via 192.168.1.12 proto ${ROUTE_PROTO}`,
    `route del 10.42.3.0/24 via 192.168.1.13 proto ${ROUTE_PROTO}`,
    `route replace 10.42.2.0/24 via 192.168.1.99 proto ${ROUTE_PROTO}`,
    `route replace 10.42.4.0/24 via 192.168.1.14 proto ${ROUTE_PROTO}`,
  ]);
  assert.deepEqual(routeCommands(desired, desired), []);
});

test('cidrWithin', () => {
  assert.equal(cidrWithin('10.42.1.0/24', '10.42.0.0/16'), true);
  assert.equal(cidrWithin('10.42.0.0/16', '10.42.0.0/16'), true);
  assert.equal(cidrWithin('10.42.0.0/15', '10.42.0.0/16'), false);
  assert.equal(cidrWithin('10.43.0.0/24', '10.42.0.0/16'), false);
  assert.equal(cidrWithin('garbage', '10.42.0.0/16'), false);
});

// ---- against the kernel, in a scratch network namespace ----------------------------------

const kernelSkip = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : undefined;

/** Runs `code` (an async function body, ESM, with `routes` imported) under tsx inside netns `ns`; returns what it printed as JSON. */
function inNetns(ns: string, code: string): unknown {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-routes-'));
  try {
    const file = path.join(dir, 'run.mts');
    writeFileSync(file, `import * as routes from ${JSON.stringify(path.join(import.meta.dirname, 'routes.ts'))};\nconst out = await (async () => { ${code} })();\nconsole.log(JSON.stringify(out));\n`);
    const stdout = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', file], { encoding: 'utf8', cwd: path.resolve(import.meta.dirname, '../../..') });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('applyRoutes adds, moves and deletes only our routes inside the cluster CIDR; cleanupPodRoutes removes what it recorded', { skip: kernelSkip }, () => {
  const ns = `skr${process.pid}`;
  const agentDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-routes-agent-'));
  const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
    ip('addr', 'add', '192.168.77.1/24', 'dev', 'va');
    ip('link', 'set', 'va', 'up');
    ip('link', 'set', 'vb', 'up');
    // someone else's route with our protocol number, outside our cluster CIDR: never touched
    ip('route', 'add', '10.88.0.0/24', 'via', '192.168.77.9', 'proto', String(ROUTE_PROTO));
    const out = inNetns(ns, `
      const cidr = '10.77.0.0/16';
      const local = await routes.readLocalNetwork(cidr);
      const first = await routes.applyRoutes(${JSON.stringify(agentDir)}, cidr, [{ dst: '10.77.1.0/24', via: '192.168.77.2' }, { dst: '10.77.2.0/24', via: '192.168.77.3' }]);
      const afterFirst = await routes.readOurRoutes(cidr);
      const again = await routes.applyRoutes(${JSON.stringify(agentDir)}, cidr, [{ dst: '10.77.1.0/24', via: '192.168.77.2' }, { dst: '10.77.2.0/24', via: '192.168.77.3' }]);
      await routes.applyRoutes(${JSON.stringify(agentDir)}, cidr, [{ dst: '10.77.2.0/24', via: '192.168.77.4' }]);
      const afterSecond = await routes.readOurRoutes(cidr);
      const removed = await routes.cleanupPodRoutes({ agentDir: ${JSON.stringify(agentDir)} });
      const afterCleanup = await routes.readOurRoutes(cidr);
      return { local, first: first.length, again: again.length, afterFirst, afterSecond, removed, afterCleanup };
    `) as any;
    assert.deepEqual(out.local.subnets, ['192.168.77.0/24']);
    assert.equal(out.first, 2);
    assert.equal(out.again, 0, 'nothing to do the second time');
    assert.deepEqual(out.afterFirst, [{ dst: '10.77.1.0/24', via: '192.168.77.2' }, { dst: '10.77.2.0/24', via: '192.168.77.3' }]);
    assert.deepEqual(out.afterSecond, [{ dst: '10.77.2.0/24', via: '192.168.77.4' }]);
    assert.equal(out.removed, 1);
    assert.deepEqual(out.afterCleanup, []);
    assert.match(ip('-4', 'route', 'show', 'proto', String(ROUTE_PROTO)), /10\.88\.0\.0\/24 via 192\.168\.77\.9/);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(agentDir, { recursive: true, force: true });
  }
});
