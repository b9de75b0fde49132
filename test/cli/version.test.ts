// The CLI contract: `skiff version` and unknown commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const SKIFF = path.resolve(import.meta.dirname, '../../bin/skiff.js');

test('skiff version names skiff and the Kubernetes API version', () => {
  const out = execFileSync(process.execPath, [SKIFF, 'version'], { encoding: 'utf8' });
  assert.match(out, /^skiff version v\d+\.\d+\.\d+$/m);
  assert.match(out, /^kubernetes api v1\.32\.\d+$/m);
});

test('an unknown command exits 2 with usage', () => {
  const r = spawnSync(process.execPath, [SKIFF, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

test('a bad server flag is reported, not thrown', () => {
  const r = spawnSync(process.execPath, [SKIFF, 'server', '--https-listen-port', 'x'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--https-listen-port: invalid port x/);
});

test('durations are read as Kubernetes flags write them', async () => {
  const { parseDuration } = await import('../../src/cli/flags.ts');
  assert.equal(parseDuration('--x', '40s'), 40_000);
  assert.equal(parseDuration('--x', '1m30s'), 90_000);
  assert.equal(parseDuration('--x', '500ms'), 500);
  assert.throws(() => parseDuration('--x', '40'), /invalid duration "40"/);
  assert.throws(() => parseDuration('--x', '4x0s'), /invalid duration/);
});
