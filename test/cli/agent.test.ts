// The CLI contract for `skiff agent` and `skiff killall`: help, flags and their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SKIFF = path.resolve(import.meta.dirname, '../../bin/skiff.js');
const run = (...args: string[]) => spawnSync(process.execPath, [SKIFF, ...args], { encoding: 'utf8', timeout: 30_000 });

test('skiff agent --help lists the flags; usage names agent and killall', () => {
  const r = run('agent', '--help');
  assert.equal(r.status, 0);
  for (const flag of ['--server', '--token', '--data-dir', '--node-name', '--node-ip', '--kubelet-port', '--ingress-http-port', '--private-registry']) assert.match(r.stdout, new RegExp(flag));
  const usage = run('--help');
  assert.match(usage.stdout, /agent\s+join this machine/);
  assert.match(usage.stdout, /killall\s+stop an agent/);
});

test('skiff agent says what is missing', () => {
  const noServer = run('agent', '--token', 'x');
  assert.equal(noServer.status, 1);
  assert.match(noServer.stderr, /--server is required/);
  const noToken = run('agent', '--server', 'https://127.0.0.1:1');
  assert.equal(noToken.status, 1);
  assert.match(noToken.stderr, /--token .* is required/);
  const badPort = run('server', '--kubelet-port', 'abc');
  assert.equal(badPort.status, 1);
  assert.match(badPort.stderr, /--kubelet-port: invalid port abc/);
  for (const args of [['server'], ['agent', '--server', 'https://127.0.0.1:1', '--token', 'x']]) {
    const badIngress = run(...args, '--ingress-http-port', '70000');
    assert.equal(badIngress.status, 1);
    assert.match(badIngress.stderr, /--ingress-http-port: invalid port 70000/);
  }
  assert.match(run('server', '--help').stdout, /--ingress-http-port PORT/);
});

test('skiff killall on a data dir with no agent has nothing to do and succeeds', { skip: process.getuid?.() !== 0 ? 'needs root' : undefined }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-killall-'));
  try {
    const r = run('killall', '--data-dir', dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed 0 pod sandboxes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
