// `skiff server` refuses network flags that cannot work, before it touches anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SKIFF = path.resolve(import.meta.dirname, '../../bin/skiff.js');

test('--cluster-dns must be a Service address inside --service-cidr, other than the kubernetes one', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-flags-'));
  const run = (...args: string[]) => spawnSync(process.execPath, [SKIFF, 'server', '--data-dir', path.join(dir, 'd'), '--disable-agent', ...args], { encoding: 'utf8', timeout: 30_000 });
  try {
    const outside = run('--cluster-dns', '10.44.0.10');
    assert.equal(outside.status, 1);
    assert.match(outside.stderr, /--cluster-dns 10\.44\.0\.10 must be an address inside --service-cidr 10\.43\.0\.0\/16/);
    const first = run('--service-cidr', '10.96.0.0/12', '--cluster-dns', '10.96.0.1');
    assert.equal(first.status, 1);
    assert.match(first.stderr, /is the kubernetes Service's address/);
    const badCidr = run('--service-cidr', '10.96.0.0/33');
    assert.equal(badCidr.status, 1);
    assert.match(badCidr.stderr, /--service-cidr: invalid service CIDR/);
    assert.equal(existsSync(path.join(dir, 'd')), false, 'nothing written for a refused start');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
