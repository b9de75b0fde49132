import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeOrphanScriptDirs } from './nft.ts';

test('script directories of processes that are gone are removed; live ones and others stay', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-nft-dirs-'));
  try {
    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // has exited by now
    for (const name of [`skiff-nft-${gone}-aB3dEf`, `skiff-nft-${process.pid}-xYz123`, 'skiff-nft-Q1w2E3', 'unrelated']) mkdirSync(path.join(dir, name));
    removeOrphanScriptDirs(dir);
    assert.deepEqual(readdirSync(dir).sort(), [`skiff-nft-${process.pid}-xYz123`, 'skiff-nft-Q1w2E3', 'unrelated'].sort());
    removeOrphanScriptDirs(path.join(dir, 'missing')); // no such directory: nothing to do
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
