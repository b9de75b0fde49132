// End to end: the built-in archives import into a throwaway containerd under their exact
// names and run. Needs root, containerd, ctr and runc; skipped otherwise.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, ensureBuiltinImages, type BuiltinImage } from './builtin.ts';

function missing(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (containerd and runc)';
  for (const bin of ['containerd', 'ctr', 'runc']) {
    if (spawnSync(bin, ['--version']).error) return `needs ${bin} on PATH (apt-get install -y containerd runc)`;
  }
  return false;
}
const skip = missing();

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('built-in images in containerd', { skip, timeout: 120_000 }, () => {
  let dir = '';
  let sock = '';
  let runcRoot = '';
  let containerd: ChildProcess | undefined;
  let images: BuiltinImage[] = [];
  const id = (suffix: string) => `skiff-images-e2e-${process.pid}-${suffix}`;
  const ctr = (...args: string[]) => run('ctr', ['-a', sock, '-n', 'k8s.io', ...args]);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'skiff-images-ctd-'));
    sock = path.join(dir, 'containerd.sock');
    runcRoot = path.join(dir, 'runc');
    images = await ensureBuiltinImages(path.join(dir, 'images'));
    // Our own root, state and sockets; no CRI plugin (ctr is enough to check the images, and
    // it would otherwise look for CNI config). runc's state root is given per container
    // with `ctr run --runc-root`, so this instance shares nothing with others on the machine.
    writeFileSync(
      path.join(dir, 'config.toml'),
      [
        'version = 2',
        `root = "${dir}/root"`,
        `state = "${dir}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = "${sock}"`,
        '[ttrpc]',
        `  address = "${sock}.ttrpc"`,
        '',
      ].join('\n'),
    );
    const log = openSync(path.join(dir, 'containerd.log'), 'a');
    containerd = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
    for (let i = 0; ; i++) {
      if ((await run('ctr', ['-a', sock, 'version'], 2_000)).code === 0) break;
      if (i > 100 || containerd.exitCode !== null) {
        throw new Error(`containerd did not start:\n${readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}`);
      }
      await sleep(100);
    }
  });

  after(async () => {
    if (containerd && containerd.exitCode === null && containerd.signalCode === null) {
      const exited = new Promise((resolve) => containerd!.once('exit', resolve));
      containerd.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000, undefined, { ref: false })]);
      if (containerd.exitCode === null && containerd.signalCode === null) containerd.kill('SIGKILL');
    }
    if (dir) {
      // Snapshot mounts of containers that did not get removed would keep rm from working.
      const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir));
      for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ctr images import names them exactly', async () => {
    for (const img of images) {
      const r = await ctr('images', 'import', img.file);
      assert.equal(r.code, 0, r.stderr);
    }
    const ls = await ctr('images', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    const rows = ls.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
    const byRef = new Map(rows.map((r) => [r[0]!, r]));
    for (const img of images) {
      const row = byRef.get(img.name);
      assert.ok(row, `${img.name} in:\n${ls.stdout}`);
      assert.equal(row[2], img.digest);
      assert.ok(row.includes('linux/amd64'));
    }
    assert.deepEqual([...byRef.keys()].sort(), [BUSYBOX_IMAGE, PAUSE_IMAGE]);
  });

  test('busybox runs: sh -c "echo hi" prints hi', async () => {
    const r = await ctr('run', '--rm', '--runc-root', runcRoot, BUSYBOX_IMAGE, id('echo'), 'sh', '-c', 'echo hi');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  });

  test('busybox: applets, users, PATH and /tmp inside the container', async () => {
    const script = 'seq 3 | wc -l; id -un; id -u nobody; stat -c %a /tmp; test -d /var/www && echo www; echo $PATH; hostname >/dev/null && echo host; date +%Y | grep -c .; /usr/bin/env true && echo env';
    const r = await ctr('run', '--rm', '--runc-root', runcRoot, BUSYBOX_IMAGE, id('applets'), 'sh', '-c', script);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, ['3', 'root', '65534', '1777', 'www', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'host', '1', 'env', ''].join('\n'));
  });

  test('the default Cmd is sh; a failing command gives its exit code', async () => {
    const r = await ctr('run', '--rm', '--runc-root', runcRoot, BUSYBOX_IMAGE, id('exit'), 'sh', '-c', 'exit 3');
    assert.equal(r.code, 3);
  });

  test('pause runs as PID 1 and exits 0 on SIGTERM', async () => {
    const name = id('pause');
    const runner = spawn('ctr', ['-a', sock, '-n', 'k8s.io', 'run', '--rm', '--runc-root', runcRoot, PAUSE_IMAGE, name], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; ; i++) {
        const ls = await ctr('task', 'ls');
        if (new RegExp(`^${name}\\s+\\d+\\s+RUNNING`, 'm').test(ls.stdout)) break;
        assert.ok(i < 100, `pause task did not start:\n${ls.stdout}${ls.stderr}`);
        await sleep(50);
      }
      await sleep(100); // past its signal setup
      const kill = await ctr('task', 'kill', '-s', 'SIGTERM', name);
      assert.equal(kill.code, 0, kill.stderr);
      assert.equal(await Promise.race([exited, sleep(10_000, undefined, { ref: false }).then(() => 'timeout')]), 0);
    } finally {
      if (runner.exitCode === null) {
        await ctr('task', 'kill', '-s', 'SIGKILL', name);
        runner.kill('SIGKILL');
      }
    }
  });
});
