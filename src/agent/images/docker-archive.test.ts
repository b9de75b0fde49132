import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { buildDockerArchive, writeDockerArchive } from './docker-archive.ts';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('docker-archive writer', () => {
  const spec = {
    tags: ['dropped/busybox:2', 'registry.example/team/app:1'],
    layers: [[{ type: 'file' as const, path: 'bin/hello', data: 'hi\n', mode: 0o755 }], [{ type: 'file' as const, path: 'etc/marker', data: 'x\n' }]],
    config: { cmd: ['/bin/hello'] },
  };

  it('writes the `docker save` layout, read back with the system tar', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-docker-archive-'));
    try {
      const file = path.join(dir, 'img.tar');
      const a = await writeDockerArchive(file, spec);
      const out = path.join(dir, 'x');
      execFileSync('mkdir', [out]);
      execFileSync('tar', ['-xf', file, '-C', out]);
      const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
      assert.equal(manifest.length, 1);
      assert.deepEqual(manifest[0].RepoTags, spec.tags);
      const config = readFileSync(path.join(out, manifest[0].Config));
      assert.equal(`sha256:${manifest[0].Config.replace(/\.json$/, '')}`, sha(config));
      assert.equal(a.imageId, sha(config));
      const layers = manifest[0].Layers.map((l: string) => sha(readFileSync(path.join(out, l))));
      assert.deepEqual(layers, a.diffIds);
      const parsed = JSON.parse(config.toString());
      assert.deepEqual(parsed.rootfs.diff_ids, a.diffIds);
      assert.deepEqual(parsed.config.Cmd, ['/bin/hello']);
      const repos = JSON.parse(readFileSync(path.join(out, 'repositories'), 'utf8'));
      const top = manifest[0].Layers.at(-1).split('/')[0];
      assert.deepEqual(repos, { 'dropped/busybox': { '2': top }, 'registry.example/team/app': { '1': top } });
      assert.equal(readFileSync(path.join(out, top, 'VERSION'), 'utf8'), '1.0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic and rejects bad tags', () => {
    assert.ok(buildDockerArchive(spec).data.equals(buildDockerArchive(spec).data));
    assert.throws(() => buildDockerArchive({ ...spec, tags: [] }), /at least one tag/);
    assert.throws(() => buildDockerArchive({ ...spec, tags: ['NoTag'] }), /invalid tag/);
  });
});
