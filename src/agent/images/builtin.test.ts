import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILTIN_RECORD, BUSYBOX_IMAGE, ImageBuildError, PAUSE_IMAGE, ensureBuiltinImages, isStaticElf } from './builtin.ts';

const work = mkdtempSync(path.join(tmpdir(), 'skiff-images-builtin-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('ensureBuiltinImages', () => {
  const dir = path.join(work, 'out');
  const built: string[] = [];
  const log = (m: string) => built.push(m);

  test('cold: builds pause.tar and busybox.tar and records their inputs', async () => {
    const images = await ensureBuiltinImages(dir, { log });
    assert.deepEqual(images.map((i) => i.name), [PAUSE_IMAGE, BUSYBOX_IMAGE]);
    assert.deepEqual(images.map((i) => i.file), [path.join(dir, 'pause.tar'), path.join(dir, 'busybox.tar')]);
    assert.equal(built.length, 2);
    const record = JSON.parse(readFileSync(path.join(dir, BUILTIN_RECORD), 'utf8')) as Record<string, { inputHash: string; digest: string }>;
    assert.deepEqual(Object.keys(record).sort(), ['busybox', 'pause']);
    assert.equal(record.pause!.digest, images[0]!.digest);
  });

  test('warm: nothing rebuilt, files untouched, fast', async () => {
    built.length = 0;
    const before = ['pause.tar', 'busybox.tar', BUILTIN_RECORD].map((f) => statSync(path.join(dir, f)).mtimeMs);
    const started = performance.now();
    const images = await ensureBuiltinImages(dir, { log });
    const ms = performance.now() - started;
    assert.deepEqual(built, []);
    assert.deepEqual(['pause.tar', 'busybox.tar', BUILTIN_RECORD].map((f) => statSync(path.join(dir, f)).mtimeMs), before);
    assert.equal(images.length, 2);
    assert.ok(ms < 500, `warm ensureBuiltinImages took ${ms.toFixed(1)} ms`);
  });

  test('stale input hash or a missing/truncated archive: only that image is rebuilt', async () => {
    const recordFile = path.join(dir, BUILTIN_RECORD);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as Record<string, { inputHash: string }>;
    record.pause!.inputHash = 'sha256:old';
    writeFileSync(recordFile, JSON.stringify(record));
    built.length = 0;
    await ensureBuiltinImages(dir, { log });
    assert.equal(built.length, 1);
    assert.match(built[0]!, /skiff\.local\/pause:1/);

    rmSync(path.join(dir, 'busybox.tar'));
    built.length = 0;
    await ensureBuiltinImages(dir, { log });
    assert.equal(built.length, 1);
    assert.match(built[0]!, /skiff\.local\/busybox:1/);

    writeFileSync(path.join(dir, 'pause.tar'), 'truncated');
    built.length = 0;
    await ensureBuiltinImages(dir, { log });
    assert.equal(built.length, 1);
    assert.ok(statSync(path.join(dir, 'pause.tar')).size > 1000);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
  });

  test('a different busybox binary makes busybox.tar stale', async () => {
    const other = path.join(work, 'busybox-copy');
    writeFileSync(other, Buffer.concat([readFileSync('/bin/busybox'), Buffer.from('\0')]), { mode: 0o755 });
    built.length = 0;
    await ensureBuiltinImages(dir, { log, busybox: other });
    assert.equal(built.length, 1);
    assert.match(built[0]!, /busybox:1/);
  });

  test('clear errors naming the apt package when a tool is missing', async () => {
    const fresh = () => mkdtempSync(path.join(work, 'err-'));
    await assert.rejects(ensureBuiltinImages(fresh(), { cc: 'skiff-no-such-cc' }), (e: unknown) => {
      assert.ok(e instanceof ImageBuildError);
      assert.equal(e.reason, 'ToolMissing');
      assert.match(e.message, /apt-get install -y gcc libc6-dev/);
      return true;
    });
    await assert.rejects(ensureBuiltinImages(fresh(), { busybox: '/nonexistent/busybox' }), (e: unknown) => {
      assert.ok(e instanceof ImageBuildError);
      assert.equal(e.reason, 'ToolMissing');
      assert.match(e.message, /apt-get install -y busybox-static/);
      return true;
    });
    await assert.rejects(ensureBuiltinImages(fresh(), { busybox: '/bin/ls' }), /not a statically linked.*busybox-static/);
  });

  test('isStaticElf', () => {
    assert.equal(isStaticElf(readFileSync('/bin/busybox')), true);
    assert.equal(isStaticElf(readFileSync('/bin/ls')), false);
    assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
  });
});

/** [pid, ppid, state] of every process. */
function processes(): [number, number, string][] {
  const out: [number, number, string][] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push([Number(d), Number(fields[1]), fields[0]!]);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const hasUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--version']).status === 0 && spawnSync('nsenter', ['--version']).status === 0;

describe('pause program', { skip: hasUnshare ? false : 'needs root with unshare and nsenter (util-linux)' }, () => {
  const pause = path.join(work, 'pause');

  async function startInPidNamespace(): Promise<{ unshare: ReturnType<typeof spawn>; pid: number; exited: Promise<number | null> }> {
    if (!statSync(pause, { throwIfNoEntry: false })) {
      const [img] = await ensureBuiltinImages(path.join(work, 'pause-src'));
      const x = mkdtempSync(path.join(work, 'px-'));
      execFileSync('tar', ['-xf', img!.file, '-C', x]);
      const index = JSON.parse(readFileSync(path.join(x, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      const manifest = JSON.parse(readFileSync(path.join(x, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
      execFileSync('tar', ['-xf', path.join(x, 'blobs/sha256', manifest.layers[0]!.digest.slice(7)), '-C', work]);
    }
    const unshare = spawn('unshare', ['--pid', '--fork', '--kill-child', pause], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => unshare.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 100; i++) {
      const child = processes().find(([, ppid]) => ppid === unshare.pid);
      if (child) {
        await sleep(50); // let it install its signal handlers
        return { unshare, pid: child[0], exited };
      }
      await sleep(20);
    }
    unshare.kill('SIGKILL');
    throw new Error('pause did not start under unshare');
  }

  test('as PID 1 it reaps orphans re-parented to it, and exits 0 on SIGTERM', async () => {
    const { pid, exited, unshare } = await startInPidNamespace();
    try {
      // A shell in pause's PID namespace leaves a background sleep behind: the orphan goes to pause.
      execFileSync('nsenter', ['-t', String(pid), '-p', '--', '/bin/busybox', 'sh', '-c', '/bin/busybox sleep 0.5 </dev/null >/dev/null 2>&1 & exit 0']);
      const adopted = processes().filter(([, ppid]) => ppid === pid);
      assert.equal(adopted.length, 1, 'the orphaned sleep is now a child of pause');
      await sleep(1000);
      assert.deepEqual(processes().filter(([, ppid]) => ppid === pid), [], 'no zombie left once it exited');
      process.kill(pid, 'SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      unshare.kill('SIGKILL');
    }
  });

  test('exits 0 on SIGINT', async () => {
    const { pid, exited, unshare } = await startInPidNamespace();
    try {
      process.kill(pid, 'SIGINT');
      assert.equal(await exited, 0);
    } finally {
      unshare.kill('SIGKILL');
    }
  });
});
