import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../api/object.ts';
import { DATA_DIR_NAME } from './atomic-writer.ts';
import { writeEtcHosts } from './etc-hosts.ts';
import { VolumeError } from './errors.ts';
import { SystemMounter, type MountInfo, type Mounter } from './mounter.ts';
import { PodVolumes } from './pod-volumes.ts';
import type { VolumeDeps } from './types.ts';

type Json = Record<string, any>;

const isRoot = process.getuid?.() === 0;
const NOT_ROOT = isRoot ? false : 'needs root to mount tmpfs';
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const system = new SystemMounter();

let root: string;
let uidSeq = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'skiff-volumes-'));
});

after(async () => {
  // Whatever a failed test left mounted under our temp dir goes first.
  if (isRoot) {
    const left = (await system.mounts()).filter((m) => m.mountPoint.startsWith(root + '/')).map((m) => m.mountPoint);
    for (const p of left.sort((a, b) => b.length - a.length)) await system.unmount(p).catch(() => undefined);
  }
  await rm(root, { recursive: true, force: true });
});

interface Store {
  cms: Record<string, Json>;
  secrets: Record<string, Json>;
}

function deps(store: Store, over: Partial<VolumeDeps> = {}): VolumeDeps {
  return {
    nodeName: 'node-a',
    getConfigMap: async (ns, name) => (store.cms[name] ? { metadata: { namespace: ns, name }, ...store.cms[name] } : undefined),
    getSecret: async (ns, name) => (store.secrets[name] ? { metadata: { namespace: ns, name }, data: store.secrets[name] } : undefined),
    nodeAllocatable: { cpu: '4', memory: '8Gi' },
    ...over,
  };
}

function pod(volumes: Json[], extra: Json = {}, meta: Json = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'shop', uid: `pod-${++uidSeq}`, labels: { app: 'web' }, annotations: { note: 'hi' }, ...meta },
    spec: { containers: [{ name: 'c', resources: { limits: { cpu: '500m', memory: '64Mi' } } }], volumes, ...extra },
  };
}

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o7777;
const mountsUnder = async (dir: string): Promise<MountInfo[]> => (await system.mounts()).filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(dir + '/'));

describe('configMap volumes', () => {
  it('projects items with modes through ..data symlinks', async () => {
    const store: Store = { cms: { cfg: { data: { a: 'one', b: 'two' }, binaryData: { bin: b64(Buffer.from([0, 1, 2])) } } }, secrets: {} };
    const pv = new PodVolumes(join(root, 'agent1'), { tmpfs: false });
    const p = pod([{ name: 'cfg', configMap: { name: 'cfg', defaultMode: 0o640, items: [{ key: 'a', path: 'dir/a.txt', mode: 0o600 }, { key: 'bin', path: 'bin' }] } }]);
    const vols = await pv.setUp(p, deps(store));
    const dir = join(root, 'agent1', 'pods', p.metadata.uid!, 'volumes', 'kubernetes.io~configmap', 'cfg');
    assert.deepEqual(vols.get('cfg'), { hostPath: dir, readOnly: true, plugin: 'kubernetes.io~configmap' });
    assert.equal(await readFile(join(dir, 'dir/a.txt'), 'utf8'), 'one');
    assert.deepEqual(await readFile(join(dir, 'bin')), Buffer.from([0, 1, 2]));
    assert.equal(await readlink(join(dir, 'dir')), '..data/dir');
    assert.equal(await readlink(join(dir, 'bin')), '..data/bin');
    assert.match(await readlink(join(dir, DATA_DIR_NAME)), /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\w+$/);
    assert.equal(await mode(join(dir, 'dir/a.txt')), 0o600);
    assert.equal(await mode(join(dir, 'bin')), 0o640);
    assert.deepEqual((await readdir(dir)).sort(), ['..data', (await readlink(join(dir, DATA_DIR_NAME))), 'bin', 'dir'].sort());
    await pv.tearDown(p.metadata.uid!);
  });

  it('without items projects every key with defaultMode 0644', async () => {
    const store: Store = { cms: { cfg: { data: { 'app.conf': 'x=1' } } }, secrets: {} };
    const pv = new PodVolumes(join(root, 'agent2'), { tmpfs: false });
    const p = pod([{ name: 'cfg', configMap: { name: 'cfg' } }]);
    const dir = (await pv.setUp(p, deps(store))).get('cfg')!.hostPath;
    assert.equal(await readFile(join(dir, 'app.conf'), 'utf8'), 'x=1');
    assert.equal(await mode(join(dir, 'app.conf')), 0o644);
    await pv.tearDown(p.metadata.uid!);
  });

  it('update swaps ..data atomically, removes the old data dir and stale keys', async () => {
    const big = (ch: string) => ch.repeat(256 * 1024);
    const store: Store = { cms: { cfg: { data: { a: big('A'), gone: 'x' } } }, secrets: {} };
    const pv = new PodVolumes(join(root, 'agent3'), { tmpfs: false });
    const p = pod([{ name: 'cfg', configMap: { name: 'cfg' } }]);
    const dir = (await pv.setUp(p, deps(store))).get('cfg')!.hostPath;
    const first = await readlink(join(dir, DATA_DIR_NAME));

    // Unchanged content: nothing is written.
    await pv.update(p, deps(store));
    assert.equal(await readlink(join(dir, DATA_DIR_NAME)), first);

    // A reader running during many updates sees only complete versions.
    const versions = new Set(['A', 'B', 'C', 'D', 'E', 'F'].map(big));
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        try {
          const v = await readFile(join(dir, 'a'), 'utf8');
          assert.ok(versions.has(v), `partial read of ${v.length} bytes`);
          reads++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    })();
    for (const ch of ['B', 'C', 'D', 'E', 'F']) {
      store.cms.cfg = { data: { a: big(ch) } };
      await pv.update(p, deps(store));
    }
    stop = true;
    await reader;
    assert.ok(reads > 0);

    const now = await readlink(join(dir, DATA_DIR_NAME));
    assert.notEqual(now, first);
    assert.equal(await readFile(join(dir, 'a'), 'utf8'), big('F'));
    const entries = await readdir(dir);
    assert.deepEqual(entries.sort(), ['..data', now, 'a'].sort(), 'old data dirs and the removed key are gone');
    await pv.tearDown(p.metadata.uid!);
  });

  it('a missing ConfigMap is a VolumeError; optional gives an empty volume', async () => {
    const store: Store = { cms: { cfg: { data: { a: '1' } } }, secrets: {} };
    const pv = new PodVolumes(join(root, 'agent4'), { tmpfs: false });
    const p = pod([
      { name: 'missing', configMap: { name: 'nope' } },
      { name: 'badkey', configMap: { name: 'cfg', items: [{ key: 'zz', path: 'zz' }] } },
      { name: 'opt', configMap: { name: 'nope', optional: true } },
    ]);
    await assert.rejects(pv.setUp(p, deps(store)), (e: unknown) => {
      assert.ok(e instanceof VolumeError);
      assert.equal(e.message, 'configmap "nope" not found');
      assert.equal(e.volume, 'missing');
      assert.equal(e.reason, 'FailedMount');
      assert.equal(e.eventMessage, 'MountVolume.SetUp failed for volume "missing" : configmap "nope" not found');
      assert.deepEqual(e.errors.map((x) => x.message), ['configmap "nope" not found', 'configmap references non-existent config key: zz']);
      return true;
    });
    const p2 = pod([{ name: 'opt', configMap: { name: 'nope', optional: true } }]);
    const dir = (await pv.setUp(p2, deps(store))).get('opt')!.hostPath;
    assert.deepEqual(await readdir(dir).then((e) => e.filter((x) => !x.startsWith('..'))), []);
    await pv.tearDown(p.metadata.uid!);
    await pv.tearDown(p2.metadata.uid!);
  });
});

describe('secret, downwardAPI and projected volumes', () => {
  it('decodes secret data, on tmpfs when root', async () => {
    const store: Store = { cms: {}, secrets: { creds: { user: b64('admin'), pass: b64('hunter2') } } };
    const pv = new PodVolumes(join(root, 'agent5'), { tmpfs: isRoot });
    const p = pod([{ name: 's', secret: { secretName: 'creds', defaultMode: 0o400 } }]);
    const dir = (await pv.setUp(p, deps(store))).get('s')!.hostPath;
    assert.equal(await readFile(join(dir, 'pass'), 'utf8'), 'hunter2');
    assert.equal(await mode(join(dir, 'user')), 0o400);
    if (isRoot) {
      const m = await mountsUnder(dir);
      assert.equal(m.length, 1);
      assert.equal(m[0]!.fsType, 'tmpfs');
      // No sizeLimit: the pod's memory limit (64Mi) under node allocatable.
      assert.match(m[0]!.superOptions, /size=65536k/);
      // Idempotent: a second setUp does not stack another tmpfs.
      await pv.setUp(p, deps(store));
      assert.equal((await mountsUnder(dir)).length, 1);
    }
    await assert.rejects(
      pv.setUp(pod([{ name: 's', secret: { secretName: 'nope' } }]), deps(store)),
      (e: unknown) => e instanceof VolumeError && e.message === 'secret "nope" not found',
    );
    await assert.rejects(
      pv.setUp(pod([{ name: 's', secret: { secretName: 'creds', items: [{ key: 'x', path: 'x' }] } }]), deps(store)),
      /references non-existent secret key: x/,
    );
    await pv.tearDown(p.metadata.uid!);
    if (isRoot) assert.deepEqual(await mountsUnder(join(root, 'agent5')), []);
  });

  it('downwardAPI: metadata and resources, refreshed by update', async () => {
    const pv = new PodVolumes(join(root, 'agent6'), { tmpfs: isRoot });
    const p = pod([
      {
        name: 'info',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
            { path: 'app', fieldRef: { fieldPath: "metadata.labels['app']" }, mode: 0o600 },
            { path: 'cpu_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' } },
            { path: 'mem_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
          ],
        },
      },
    ]);
    const d = deps({ cms: {}, secrets: {} });
    const dir = (await pv.setUp(p, d)).get('info')!.hostPath;
    assert.equal(await readFile(join(dir, 'labels'), 'utf8'), 'app="web"');
    assert.equal(await readFile(join(dir, 'name'), 'utf8'), 'web-0');
    assert.equal(await readFile(join(dir, 'cpu_limit'), 'utf8'), '500');
    assert.equal(await readFile(join(dir, 'mem_limit'), 'utf8'), '64');
    assert.equal(await mode(join(dir, 'app')), 0o600);
    p.metadata.labels = { app: 'web', tier: 'front' };
    await pv.update(p, d);
    assert.equal(await readFile(join(dir, 'labels'), 'utf8'), 'app="web"\ntier="front"');
    await pv.tearDown(p.metadata.uid!);
  });

  it('projected: sources in order, token callback, aggregated errors', async () => {
    const store: Store = {
      cms: { 'kube-root-ca.crt': { data: { 'ca.crt': 'CA' } } },
      secrets: { s: { pw: b64('pw') } },
    };
    const tokens: Json[] = [];
    const d = deps(store, {
      serviceAccountToken: async (audience, expirationSeconds, forPod) => {
        tokens.push({ audience, expirationSeconds, pod: forPod.metadata.name });
        return 'TOKEN';
      },
    });
    const pv = new PodVolumes(join(root, 'agent7'), { tmpfs: isRoot });
    const p = pod([
      {
        name: 'kube-api-access',
        projected: {
          defaultMode: 0o444,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            { secret: { name: 's', items: [{ key: 'pw', path: 'sub/pw', mode: 0o400 }] } },
          ],
        },
      },
    ]);
    const dir = (await pv.setUp(p, d)).get('kube-api-access')!.hostPath;
    assert.equal(await readFile(join(dir, 'token'), 'utf8'), 'TOKEN');
    assert.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), 'CA');
    assert.equal(await readFile(join(dir, 'namespace'), 'utf8'), 'shop');
    assert.equal(await readFile(join(dir, 'sub/pw'), 'utf8'), 'pw');
    assert.equal(await mode(join(dir, 'token')), 0o444);
    assert.equal(await mode(join(dir, 'sub/pw')), 0o400);
    assert.deepEqual(tokens, [{ audience: undefined, expirationSeconds: 3607, pod: 'web-0' }]);

    const bad = pod([{ name: 'p', projected: { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'y' } }, { secret: { name: 'z', optional: true } }] } }]);
    await assert.rejects(pv.setUp(bad, d), (e: unknown) => e instanceof VolumeError && e.message === '[configmap "x" not found, secret "y" not found]');
    await pv.tearDown(p.metadata.uid!);
    await pv.tearDown(bad.metadata.uid!);
  });
});

describe('emptyDir', () => {
  it('disk: a 0777 directory', async () => {
    const pv = new PodVolumes(join(root, 'agent8'), { tmpfs: isRoot });
    const p = pod([{ name: 'scratch', emptyDir: {} }]);
    const v = (await pv.setUp(p, deps({ cms: {}, secrets: {} }))).get('scratch')!;
    assert.equal(v.hostPath, join(root, 'agent8', 'pods', p.metadata.uid!, 'volumes', 'kubernetes.io~empty-dir', 'scratch'));
    assert.equal(v.readOnly, false);
    assert.equal(await mode(v.hostPath), 0o777);
    await pv.tearDown(p.metadata.uid!);
  });

  it('Memory: a tmpfs sized by sizeLimit, the pod limit or node allocatable', { skip: NOT_ROOT }, async () => {
    const pv = new PodVolumes(join(root, 'agent9'));
    const p = pod(
      [
        { name: 'small', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        { name: 'big', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
      ],
    );
    const vols = await pv.setUp(p, deps({ cms: {}, secrets: {} }));
    const small = await mountsUnder(vols.get('small')!.hostPath);
    const big = await mountsUnder(vols.get('big')!.hostPath);
    assert.equal(small[0]!.fsType, 'tmpfs');
    assert.match(small[0]!.superOptions, /size=16384k/);
    assert.match(big[0]!.superOptions, /size=65536k/, 'capped at the pod memory limit');
    await writeFile(join(vols.get('small')!.hostPath, 'f'), 'x');

    const unlimited = pod([{ name: 'm', emptyDir: { medium: 'Memory' } }], { containers: [{ name: 'c' }] });
    const v = await pv.setUp(unlimited, deps({ cms: {}, secrets: {} }, { nodeAllocatable: { memory: '32Mi' } }));
    assert.match((await mountsUnder(v.get('m')!.hostPath))[0]!.superOptions, /size=32768k/);

    await pv.tearDown(p.metadata.uid!);
    await pv.tearDown(unlimited.metadata.uid!);
    assert.deepEqual(await mountsUnder(join(root, 'agent9')), []);
    assert.deepEqual(await readdir(join(root, 'agent9', 'pods')), []);
  });
});

describe('hostPath', () => {
  it('checks and creates by type, with the kubelet messages', async () => {
    const host = join(root, 'host1');
    await mkdir(host);
    await writeFile(join(host, 'file'), 'f');
    const sock = join(host, 'sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    const pv = new PodVolumes(join(root, 'agent10'), { tmpfs: false });
    const d = deps({ cms: {}, secrets: {} });
    const ok = pod([
      { name: 'any', hostPath: { path: join(host, 'does-not-matter') } },
      { name: 'mk', hostPath: { path: join(host, 'new/deep'), type: 'DirectoryOrCreate' } },
      { name: 'dir', hostPath: { path: host, type: 'Directory' } },
      { name: 'mkf', hostPath: { path: join(host, 'newfile'), type: 'FileOrCreate' } },
      { name: 'file', hostPath: { path: join(host, 'file'), type: 'File' } },
      { name: 'sock', hostPath: { path: sock, type: 'Socket' } },
      { name: 'null', hostPath: { path: '/dev/null', type: 'CharDevice' } },
    ]);
    try {
      const vols = await pv.setUp(ok, d);
      assert.deepEqual(vols.get('mk'), { hostPath: join(host, 'new/deep'), readOnly: false, plugin: 'kubernetes.io~host-path' });
      assert.equal(await mode(join(host, 'new/deep')), 0o755);
      assert.ok((await stat(join(host, 'newfile'))).isFile());
      assert.equal(await mode(join(host, 'newfile')), 0o644);

      const cases: [Json, string][] = [
        [{ path: join(host, 'file'), type: 'Directory' }, `hostPath type check failed: ${join(host, 'file')} is not a directory`],
        [{ path: join(host, 'missing'), type: 'Directory' }, `hostPath type check failed: ${join(host, 'missing')} is not a directory`],
        [{ path: host, type: 'File' }, `hostPath type check failed: ${host} is not a file`],
        [{ path: host, type: 'FileOrCreate' }, `hostPath type check failed: ${host} is not a file`],
        [{ path: join(host, 'file'), type: 'DirectoryOrCreate' }, `hostPath type check failed: ${join(host, 'file')} is not a directory`],
        [{ path: join(host, 'file'), type: 'Socket' }, `hostPath type check failed: ${join(host, 'file')} is not a socket file`],
        [{ path: join(host, 'file'), type: 'CharDevice' }, `hostPath type check failed: ${join(host, 'file')} is not a character device`],
        [{ path: '/dev/null', type: 'BlockDevice' }, 'hostPath type check failed: /dev/null is not a block device'],
        [{ path: host, type: 'Weird' }, 'Weird is an invalid volume type'],
      ];
      for (const [hp, msg] of cases) {
        await assert.rejects(pv.setUp(pod([{ name: 'h', hostPath: hp }]), d), (e: unknown) => {
          assert.ok(e instanceof VolumeError);
          assert.equal(e.message, msg);
          assert.equal(e.eventMessage, `MountVolume.SetUp failed for volume "h" : ${msg}`);
          return true;
        });
      }
    } finally {
      server.close();
    }
    await pv.tearDown(ok.metadata.uid!);
  });
});

describe('containerMounts', () => {
  it('readOnly, propagation, subPath creation and rejection', async () => {
    const host = join(root, 'host2');
    await mkdir(host);
    const store: Store = { cms: { cfg: { data: { 'nginx.conf': 'conf' } } }, secrets: {} };
    const pv = new PodVolumes(join(root, 'agent11'), { tmpfs: false });
    const p = pod([
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 'host', hostPath: { path: host } },
    ]);
    const vols = await pv.setUp(p, deps(store));
    const scratch = vols.get('scratch')!.hostPath;
    const cfg = vols.get('cfg')!.hostPath;
    const c = {
      name: 'c',
      volumeMounts: [
        { name: 'scratch', mountPath: '/data' },
        { name: 'scratch', mountPath: '/logs', subPath: 'logs/app', readOnly: true },
        { name: 'cfg', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf' },
        { name: 'host', mountPath: '/host', subPath: 'made', mountPropagation: 'HostToContainer' },
        { name: 'scratch', mountPath: '/per-pod', subPathExpr: '$(POD_NAME)' },
      ],
    };
    const mounts = await pv.containerMounts(c, vols, { env: [{ name: 'POD_NAME', value: 'web-0' }] });
    assert.deepEqual(mounts, [
      { containerPath: '/data', hostPath: scratch, readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/logs', hostPath: join(scratch, 'logs/app'), readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/etc/nginx/nginx.conf', hostPath: join(cfg, 'nginx.conf'), readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/host', hostPath: join(host, 'made'), readonly: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
      { containerPath: '/per-pod', hostPath: join(scratch, 'web-0'), readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    ]);
    assert.ok((await stat(join(scratch, 'logs/app'))).isDirectory());
    assert.equal(await mode(join(scratch, 'logs/app')), 0o777, 'subpaths get the mode of the volume root');
    assert.ok((await stat(join(host, 'made'))).isDirectory());

    const reject = async (m: Json, re: RegExp, container: Json = {}) =>
      assert.rejects(pv.containerMounts({ name: 'c', volumeMounts: [m], ...container }, vols), (e: unknown) => e instanceof VolumeError && re.test(e.message));
    await reject({ name: 'scratch', mountPath: '/x', subPath: '../../../etc' }, /^unable to provision SubPath `\.\.\/\.\.\/\.\.\/etc`: must not contain '\.\.'$/);
    await reject({ name: 'scratch', mountPath: '/x', subPath: 'a/../b' }, /must not contain '\.\.'/);
    await reject({ name: 'scratch', mountPath: '/x', subPath: '/etc' }, /^error SubPath `\/etc` must not be an absolute path$/);
    await reject({ name: 'nope', mountPath: '/x' }, /^cannot find volume "nope" to mount into container "c"$/);
    await reject({ name: 'scratch', mountPath: '/x', mountPropagation: 'Sideways' }, /invalid MountPropagation mode/);
    await reject({ name: 'scratch', mountPath: '/x', mountPropagation: 'Bidirectional' }, /only to privileged containers/);
    await reject({ name: 'scratch', mountPath: '/x', subPathExpr: '$(MISSING)' }, /missing value for MISSING/);
    const ok = await pv.containerMounts({ name: 'c', securityContext: { privileged: true }, volumeMounts: [{ name: 'scratch', mountPath: '/x', mountPropagation: 'Bidirectional' }] }, vols);
    assert.equal(ok[0]!.propagation, 'PROPAGATION_BIDIRECTIONAL');

    // A symlink a container planted in its emptyDir cannot lead a subPath out of the volume.
    const outside = join(root, 'outside');
    await mkdir(outside);
    await symlink(outside, join(scratch, 'evil'));
    await reject({ name: 'scratch', mountPath: '/x', subPath: 'evil/x' }, /not within volume path/);
    await reject({ name: 'scratch', mountPath: '/x', subPath: 'evil' }, /not within volume path/);
    assert.deepEqual(await readdir(outside), [], 'nothing created outside');
    await pv.tearDown(p.metadata.uid!);
  });
});

describe('tearDown', () => {
  it('leaves no mounts and never deletes hostPath targets, even through symlinks', async () => {
    const host = join(root, 'host3');
    await mkdir(join(host, 'dir'), { recursive: true });
    await writeFile(join(host, 'dir', 'precious'), 'keep me');
    await writeFile(join(host, 'file'), 'keep me too');
    const store: Store = { cms: { cfg: { data: { a: '1' } } }, secrets: { s: { k: b64('v') } } };
    const pv = new PodVolumes(join(root, 'agent12'), { tmpfs: isRoot });
    const p = pod([
      { name: 'disk', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory' } },
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 's', secret: { secretName: 's' } },
      { name: 'h', hostPath: { path: join(host, 'dir'), type: 'Directory' } },
    ]);
    const vols = await pv.setUp(p, deps(store));
    // What a container might leave behind: links to the host path and outside the pod dir.
    await symlink(join(host, 'dir'), join(vols.get('disk')!.hostPath, 'link-to-host-dir'));
    await symlink(join(host, 'file'), join(vols.get('mem')!.hostPath, 'link-to-host-file'));
    await symlink('../../../../../../host3', join(vols.get('disk')!.hostPath, 'relative-link'));
    await mkdir(join(vols.get('disk')!.hostPath, 'sub'));
    await writeFile(join(vols.get('disk')!.hostPath, 'sub', 'f'), 'x');
    const podDir = pv.podDir(p.metadata.uid!);
    if (isRoot) assert.equal((await mountsUnder(podDir)).length, 2, 'mem emptyDir and secret are tmpfs');

    await pv.tearDown(p.metadata.uid!);
    assert.deepEqual(await mountsUnder(podDir), []);
    await assert.rejects(lstat(podDir), { code: 'ENOENT' });
    assert.equal(await readFile(join(host, 'dir', 'precious'), 'utf8'), 'keep me');
    assert.equal(await readFile(join(host, 'file'), 'utf8'), 'keep me too');
    await pv.tearDown(p.metadata.uid!); // again: nothing to do
  });

  it('refuses to delete when a mount stays under the pod dir', async () => {
    const agent = join(root, 'agent13');
    let podDirReal = '';
    const stuck: Mounter = {
      mountTmpfs: async () => undefined,
      unmount: async () => {
        throw new Error('umount: target is busy.');
      },
      mounts: async () => (podDirReal ? [{ mountPoint: join(podDirReal, 'volumes', 'kubernetes.io~empty-dir', 'm'), fsType: 'tmpfs', source: 'tmpfs', options: 'rw', superOptions: 'rw' }] : []),
    };
    const pv = new PodVolumes(agent, { mounter: stuck });
    const p = pod([{ name: 'm', emptyDir: { medium: 'Memory' } }]);
    const vols = await pv.setUp(p, deps({ cms: {}, secrets: {} }));
    await writeFile(join(vols.get('m')!.hostPath, 'data'), 'x');
    podDirReal = pv.podDir(p.metadata.uid!);
    await assert.rejects(pv.tearDown(p.metadata.uid!), (e: unknown) => e instanceof VolumeError && /still mounted/.test(e.message) && /target is busy/.test(e.message));
    assert.equal(await readFile(join(vols.get('m')!.hostPath, 'data'), 'utf8'), 'x', 'nothing deleted');
  });

  it('refuses to cross into another filesystem it was not told about', { skip: NOT_ROOT }, async () => {
    const agent = join(root, 'agent14');
    const blind: Mounter = { mountTmpfs: (t, s) => system.mountTmpfs(t, s), unmount: (t) => system.unmount(t), mounts: async () => [] };
    const pv = new PodVolumes(agent, { mounter: blind });
    const p = pod([{ name: 'd', emptyDir: {} }]);
    const dir = (await pv.setUp(p, deps({ cms: {}, secrets: {} }))).get('d')!.hostPath;
    await mkdir(join(dir, 'mnt'));
    await system.mountTmpfs(join(dir, 'mnt'), 1048576n);
    await writeFile(join(dir, 'mnt', 'f'), 'x');
    try {
      await assert.rejects(pv.tearDown(p.metadata.uid!), /another filesystem/);
      assert.equal(await readFile(join(dir, 'mnt', 'f'), 'utf8'), 'x');
    } finally {
      await system.unmount(join(dir, 'mnt'));
    }
    await pv.tearDown(p.metadata.uid!);
  });
});

describe('writeEtcHosts', () => {
  it('writes the kubelet-managed hosts file', async () => {
    const dir = join(root, 'hosts');
    await mkdir(dir);
    const p = pod([], { hostname: 'web', subdomain: 'svc', hostAliases: [{ ip: '10.0.0.1', hostnames: ['foo', 'bar'] }] });
    const path = await writeEtcHosts(dir, p, ['10.42.0.7', 'fd00::7']);
    assert.equal(path, join(dir, 'etc-hosts'));
    assert.equal(
      await readFile(path, 'utf8'),
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n' +
        '10.42.0.7\tweb.svc.shop.svc.cluster.local\tweb\nfd00::7\tweb.svc.shop.svc.cluster.local\tweb\n' +
        '\n# Entries added by HostAliases.\n10.0.0.1\tfoo\tbar\n',
    );
    assert.equal(await mode(path), 0o644);
    await writeEtcHosts(dir, pod([]), '10.42.0.8');
    assert.match(await readFile(path, 'utf8'), /\n10\.42\.0\.8\tweb-0\n$/);
    await writeFile(join(dir, 'node-hosts'), '127.0.0.1 localhost node-a\n');
    await writeEtcHosts(dir, pod([], { hostNetwork: true }), '192.168.1.10', { nodeHostsFile: join(dir, 'node-hosts') });
    assert.equal(await readFile(path, 'utf8'), '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost node-a\n');
  });
});
