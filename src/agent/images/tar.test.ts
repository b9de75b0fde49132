import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createTar, normalizeTarPath, writeTar, type TarEntry } from './tar.ts';

const work = mkdtempSync(path.join(tmpdir(), 'skiff-images-tar-'));
after(() => rmSync(work, { recursive: true, force: true }));

const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`; // 121 bytes: needs the ustar prefix
const longFile = `${longDir}/${'f'.repeat(90)}`; // 212 bytes: prefix + name
const veryLong = `${'x'.repeat(120)}/${'y'.repeat(120)}/${'z'.repeat(120)}`; // 362 bytes: PAX path
const longTarget = `/${'t'.repeat(150)}`; // PAX linkpath

const entries: TarEntry[] = [
  { type: 'dir', path: 'bin' },
  { type: 'file', path: 'bin/tool', data: '#!/bin/sh\necho tool\n', mode: 0o755 },
  { type: 'symlink', path: 'bin/alias', target: 'tool' },
  { type: 'dir', path: 'tmp', mode: 0o1777 },
  { type: 'file', path: '/etc/secret', data: Buffer.from([1, 2, 3]), mode: 0o600 }, // leading "/" dropped; etc/ implicit
  { type: 'file', path: 'empty', data: '' },
  { type: 'file', path: longFile, data: 'long\n' },
  { type: 'file', path: veryLong, data: 'very long\n' },
  { type: 'symlink', path: 'far', target: longTarget },
  { type: 'file', path: 'unicode/héllo wörld.txt', data: 'ü\n' },
];

describe('tar writer', () => {
  const file = path.join(work, 'a.tar');

  test('system tar lists names, modes, owners and link targets', async () => {
    await writeTar(file, entries, { mtime: 1_700_000_000 });
    const listing = execFileSync('tar', ['--numeric-owner', '--utc', '-tvf', file], { encoding: 'utf8' });
    const rows = listing.trim().split('\n').map((line) => {
      const m = /^(\S+) (\d+)\/(\d+)\s+(\d+) (\S+ \S+) (.*)$/.exec(line);
      assert.ok(m, `unexpected tar -tv line: ${line}`);
      return { perms: m[1]!, uid: m[2]!, gid: m[3]!, size: Number(m[4]), date: m[5]!, rest: m[6]! };
    });
    const byName = new Map(rows.map((r) => [r.rest.replace(/ -> .*$/, ''), r]));
    for (const r of rows) {
      assert.equal(r.uid, '0');
      assert.equal(r.gid, '0');
      assert.equal(r.date, '2023-11-14 22:13');
    }
    assert.equal(byName.get('bin/')?.perms, 'drwxr-xr-x');
    assert.equal(byName.get('bin/tool')?.perms, '-rwxr-xr-x');
    assert.equal(byName.get('bin/tool')?.size, 20);
    assert.equal(byName.get('bin/alias')?.perms, 'lrwxrwxrwx');
    assert.equal(byName.get('bin/alias')?.rest, 'bin/alias -> tool');
    assert.equal(byName.get('tmp/')?.perms, 'drwxrwxrwt');
    assert.equal(byName.get('etc/')?.perms, 'drwxr-xr-x', 'implicit parent directory');
    assert.equal(byName.get('etc/secret')?.perms, '-rw-------');
    assert.equal(byName.get('empty')?.perms, '-rw-r--r--');
    assert.ok(byName.has(longFile), 'ustar prefix name');
    assert.ok(byName.has(veryLong), 'PAX path');
    assert.equal(byName.get('far')?.rest, `far -> ${longTarget}`, 'PAX linkpath');
    assert.ok(byName.has('unicode/héllo wörld.txt'));
    // Parents come before children.
    const order = rows.map((r) => r.rest);
    assert.ok(order.indexOf('etc/') < order.indexOf('etc/secret'));
    assert.ok(order.indexOf(`${'x'.repeat(120)}/${'y'.repeat(120)}/`) < order.indexOf(veryLong));
  });

  test('system tar extracts the same contents', () => {
    const out = path.join(work, 'x');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xpf', file, '-C', out]);
    assert.equal(readFileSync(path.join(out, 'bin/tool'), 'utf8'), '#!/bin/sh\necho tool\n');
    assert.equal(lstatSync(path.join(out, 'bin/tool')).mode & 0o7777, 0o755);
    assert.equal(readlinkSync(path.join(out, 'bin/alias')), 'tool');
    assert.equal(lstatSync(path.join(out, 'tmp')).mode & 0o7777, 0o1777);
    assert.deepEqual([...readFileSync(path.join(out, 'etc/secret'))], [1, 2, 3]);
    assert.equal(readFileSync(path.join(out, longFile), 'utf8'), 'long\n');
    assert.equal(readFileSync(path.join(out, veryLong), 'utf8'), 'very long\n');
    assert.equal(readlinkSync(path.join(out, 'far')), longTarget);
    assert.equal(readFileSync(path.join(out, 'unicode/héllo wörld.txt'), 'utf8'), 'ü\n');
    assert.equal(readFileSync(path.join(out, 'empty')).length, 0);
  });

  test('same entries give the same bytes; 512-byte blocks; two zero blocks at the end', () => {
    const a = createTar(entries);
    const b = createTar(entries);
    assert.ok(a.equals(b));
    assert.equal(a.length % 512, 0);
    assert.ok(a.subarray(a.length - 1024).every((x) => x === 0));
    assert.ok(!createTar(entries, { mtime: 1 }).equals(a));
  });

  test('paths are normalized and bad ones rejected', () => {
    assert.equal(normalizeTarPath('/bin/sh'), 'bin/sh');
    assert.equal(normalizeTarPath('./a//b/'), 'a/b');
    assert.throws(() => normalizeTarPath('/'), /empty/);
    assert.throws(() => normalizeTarPath('a/../b'), /"\.\."/);
    assert.throws(() => createTar([{ type: 'file', path: 'a', data: '' }, { type: 'file', path: '/a', data: '' }]), /duplicate/);
    assert.throws(() => createTar([{ type: 'file', path: 'a', data: '' }, { type: 'file', path: 'a/b', data: '' }]), /not a directory/);
  });

  test('a GNU tar archive of the same tree lists the same', () => {
    // Cross-check against tar's own output for a small tree: same names, modes and link.
    const src = path.join(work, 'src');
    execFileSync('mkdir', ['-p', `${src}/d`]);
    writeFileSync(`${src}/d/f`, 'x');
    execFileSync('chmod', ['0640', `${src}/d/f`]);
    execFileSync('ln', ['-s', 'f', `${src}/d/l`]);
    const ours = path.join(work, 'ours.tar');
    writeFileSync(
      ours,
      createTar([
        { type: 'dir', path: 'd' },
        { type: 'file', path: 'd/f', data: 'x', mode: 0o640 },
        { type: 'symlink', path: 'd/l', target: 'f' },
      ]),
    );
    const theirs = path.join(work, 'theirs.tar');
    execFileSync('tar', ['--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--sort=name', '-cf', theirs, '-C', src, 'd']);
    const list = (f: string) => execFileSync('tar', ['--numeric-owner', '--utc', '-tvf', f], { encoding: 'utf8' }).split('\n').map((l) => l.replace(/\s+/g, ' ')).sort();
    assert.deepEqual(list(ours), list(theirs));
  });
});
