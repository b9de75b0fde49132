import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, ensureBuiltinImages } from './builtin.ts';
import {
  ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, DEFAULT_PATH, MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_LAYER,
  MEDIA_TYPE_MANIFEST, buildOciArchive, validateImageName, type ImageSpec,
} from './oci-archive.ts';

const work = mkdtempSync(path.join(tmpdir(), 'skiff-images-oci-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Desc { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: { architecture: string; os: string } }
interface Layout {
  dir: string;
  index: { schemaVersion: number; mediaType: string; manifests: Desc[] };
  manifest: { schemaVersion: number; mediaType: string; config: Desc; layers: Desc[] };
  config: { architecture: string; os: string; config: { Cmd?: string[]; Entrypoint?: string[]; Env?: string[]; WorkingDir?: string; User?: string }; rootfs: { type: string; diff_ids: string[] } };
}

/**
 * Extracts an archive with the system tar and checks it as an importer would: every blob's
 * sha256 is its name, every descriptor's digest and size match a blob, diff_ids match the
 * layers. Returns the parsed documents.
 */
function verifyArchive(file: string, expectedName: string): Layout {
  const dir = mkdtempSync(path.join(work, 'x-'));
  execFileSync('tar', ['-xf', file, '-C', dir]);
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const blobDir = path.join(dir, 'blobs', 'sha256');
  const blobs = new Map<string, Buffer>();
  for (const name of readdirSync(blobDir)) {
    const data = readFileSync(path.join(blobDir, name));
    assert.equal(createHash('sha256').update(data).digest('hex'), name, `blob ${name} hashes to its name`);
    blobs.set(`sha256:${name}`, data);
  }
  const resolve = (d: Desc): Buffer => {
    const data = blobs.get(d.digest);
    assert.ok(data, `descriptor ${d.digest} has a blob`);
    assert.equal(data.length, d.size, `descriptor ${d.digest} size`);
    return data;
  };
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as Layout['index'];
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.mediaType, MEDIA_TYPE_INDEX);
  assert.equal(index.manifests.length, 1);
  const mdesc = index.manifests[0]!;
  assert.equal(mdesc.mediaType, MEDIA_TYPE_MANIFEST);
  assert.equal(mdesc.annotations?.[ANNOTATION_CONTAINERD_NAME], expectedName);
  assert.equal(mdesc.annotations?.[ANNOTATION_REF_NAME], expectedName);
  assert.deepEqual(mdesc.platform, { architecture: 'amd64', os: 'linux' });
  const manifest = JSON.parse(resolve(mdesc).toString()) as Layout['manifest'];
  assert.equal(manifest.schemaVersion, 2);
  assert.equal(manifest.mediaType, MEDIA_TYPE_MANIFEST);
  assert.equal(manifest.config.mediaType, MEDIA_TYPE_CONFIG);
  const config = JSON.parse(resolve(manifest.config).toString()) as Layout['config'];
  assert.equal(config.architecture, 'amd64');
  assert.equal(config.os, 'linux');
  assert.equal(config.rootfs.type, 'layers');
  assert.equal(config.rootfs.diff_ids.length, manifest.layers.length);
  manifest.layers.forEach((l, i) => {
    assert.equal(l.mediaType, MEDIA_TYPE_LAYER);
    const data = resolve(l);
    assert.equal(config.rootfs.diff_ids[i], `sha256:${createHash('sha256').update(data).digest('hex')}`, 'diff_id of an uncompressed layer');
  });
  // Nothing unreferenced.
  assert.equal(blobs.size, 2 + manifest.layers.length);
  return { dir, index, manifest, config };
}

/** Extracts layer `i` of a verified layout into a new directory. */
function extractLayer(layout: Layout, i: number): string {
  const out = mkdtempSync(path.join(work, 'rootfs-'));
  const blob = path.join(layout.dir, 'blobs', 'sha256', layout.manifest.layers[i]!.digest.slice(7));
  execFileSync('tar', ['-xpf', blob, '-C', out]);
  return out;
}

describe('OCI archive', () => {
  const spec: ImageSpec = {
    name: 'skiff.local/test/app:v1.2',
    layers: [
      [{ type: 'file', path: 'app/run.sh', data: '#!/bin/sh\necho hi\n', mode: 0o755 }],
      [{ type: 'file', path: 'app/data.txt', data: 'data\n' }, { type: 'symlink', path: 'app/link', target: 'data.txt' }],
    ],
    config: { entrypoint: ['/app/run.sh'], cmd: ['--flag'], env: ['FOO=bar'], workingDir: '/app', user: '65534', exposedPorts: ['8080/tcp'], labels: { b: '2', a: '1' } },
  };

  test('digests, sizes and references all verify; config carries the spec', () => {
    const file = path.join(work, 'app.tar');
    const archive = buildOciArchive(spec);
    writeFileSync(file, archive.data);
    const layout = verifyArchive(file, spec.name);
    assert.equal(layout.index.manifests[0]!.digest, archive.manifestDigest);
    assert.equal(layout.manifest.config.digest, archive.configDigest);
    assert.deepEqual(layout.manifest.layers.map((l) => l.digest), archive.layerDigests);
    assert.deepEqual(layout.config.rootfs.diff_ids, archive.diffIds);
    assert.deepEqual(layout.config.config, {
      Env: [`PATH=${DEFAULT_PATH}`, 'FOO=bar'],
      User: '65534',
      ExposedPorts: { '8080/tcp': {} },
      Entrypoint: ['/app/run.sh'],
      Cmd: ['--flag'],
      WorkingDir: '/app',
      Labels: { a: '1', b: '2' },
    });
    const l1 = extractLayer(layout, 1);
    assert.equal(readlinkSync(path.join(l1, 'app/link')), 'data.txt');
  });

  test('deterministic: same spec, same bytes; different name, different index only', () => {
    const a = buildOciArchive(spec);
    const b = buildOciArchive(spec);
    assert.ok(a.data.equals(b.data));
    const c = buildOciArchive({ ...spec, name: 'skiff.local/test/app:v2' });
    assert.ok(!c.data.equals(a.data));
    assert.equal(c.manifestDigest, a.manifestDigest, 'the name lives in index.json, not in the manifest');
  });

  test('image names must be fully qualified with a tag', () => {
    for (const ok of ['skiff.local/pause:1', 'localhost:5000/a/b:latest', 'localhost/x:y', 'registry.k8s.io/pause:3.9']) validateImageName(ok);
    for (const bad of ['busybox:1', 'skiff.local/pause', 'Skiff.local/Pause:1', 'skiff.local/pause:', 'docker/busybox:1']) {
      assert.throws(() => validateImageName(bad), /invalid image reference/, bad);
    }
  });
});

describe('builtin images as archives', () => {
  const out = path.join(work, 'builtin');
  let images: { name: string; file: string; digest: string }[] = [];

  test('ensureBuiltinImages builds both; each verifies', async () => {
    images = await ensureBuiltinImages(out);
    assert.deepEqual(images.map((i) => [i.name, path.basename(i.file)]), [[PAUSE_IMAGE, 'pause.tar'], [BUSYBOX_IMAGE, 'busybox.tar']]);
    for (const img of images) {
      const layout = verifyArchive(img.file, img.name);
      assert.equal(layout.index.manifests[0]!.digest, img.digest);
    }
  });

  test('pause image: /pause, static, Cmd ["/pause"], answers -v', () => {
    const layout = verifyArchive(images[0]!.file, PAUSE_IMAGE);
    assert.deepEqual(layout.config.config.Cmd, ['/pause']);
    assert.equal(layout.config.config.Env?.[0], `PATH=${DEFAULT_PATH}`);
    const root = extractLayer(layout, 0);
    assert.deepEqual(readdirSync(root), ['pause']);
    assert.equal(lstatSync(path.join(root, 'pause')).mode & 0o777, 0o755);
    assert.equal(execFileSync(path.join(root, 'pause'), ['-v'], { encoding: 'utf8' }), 'skiff-pause 1\n');
  });

  test('busybox image: applets, /etc files, /tmp 1777, /var/www, Cmd ["sh"]', () => {
    const layout = verifyArchive(images[1]!.file, BUSYBOX_IMAGE);
    assert.deepEqual(layout.config.config.Cmd, ['sh']);
    assert.deepEqual(layout.config.config.Env, [`PATH=${DEFAULT_PATH}`]);
    const root = extractLayer(layout, 0);
    assert.ok(readFileSync(path.join(root, 'bin/busybox')).equals(readFileSync('/bin/busybox')));
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).trim().split('\n').filter((a) => a !== 'busybox');
    for (const a of applets) assert.equal(readlinkSync(path.join(root, 'bin', a)), 'busybox', a);
    for (const a of ['sh', 'sleep', 'echo', 'cat', 'ls', 'httpd', 'nc', 'wget', 'env', 'hostname', 'id', 'true', 'false', 'ps', 'kill', 'seq', 'test', '[', 'ip', 'ifconfig', 'nslookup', 'ping', 'top', 'tee', 'stat', 'tr']) {
      assert.ok(existsSync(path.join(root, 'bin', a)), a);
    }
    assert.equal(readlinkSync(path.join(root, 'usr/bin/env')), '/bin/busybox');
    assert.match(readFileSync(path.join(root, 'etc/passwd'), 'utf8'), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
    assert.match(readFileSync(path.join(root, 'etc/group'), 'utf8'), /^root:x:0:\nnobody:x:65534:/);
    assert.equal(lstatSync(path.join(root, 'tmp')).mode & 0o7777, 0o1777);
    assert.ok(lstatSync(path.join(root, 'var/www')).isDirectory());
    assert.deepEqual(readdirSync(path.join(root, 'var/www')), []);
    // The rootfs works: run its shell through chroot when we may.
    if (process.getuid?.() === 0) {
      mkdirSync(path.join(root, 'proc'), { recursive: true });
      assert.equal(execFileSync('chroot', [root, '/bin/sh', '-c', 'echo $((6*7)) | tee /tmp/x; cat /tmp/x'], { encoding: 'utf8', env: { PATH: DEFAULT_PATH } }), '42\n42\n');
    }
  });
});
