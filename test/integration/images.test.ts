// Images end to end, as k3s users use them: a real `skiff server` with its agent
// (containerd), real registries (Debian's docker-registry on 127.0.0.1, filled by our own
// push client), `<data-dir>/registries.yaml` (plain-HTTP endpoints, mirrors, auth),
// imagePullSecrets, every imagePullPolicy with the kubelet's events and waiting reasons,
// and image archives dropped into `<data-dir>/agent/images/` (OCI, docker-archive, gzip).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { busyboxImageSpec } from '../../src/agent/images/builtin.ts';
import { writeDockerArchive } from '../../src/agent/images/docker-archive.ts';
import { writeOciArchive, type ImageSpec } from '../../src/agent/images/oci-archive.ts';
import { pushImage } from '../../src/agent/images/push.ts';
import { agentUnavailable, eventually, startServer, type TestServer } from '../helpers/cluster.ts';
import { registryUnavailable, startRegistry, type TestRegistry } from '../helpers/registry.ts';

const skip = agentUnavailable();
const skipRegistry = skip ?? registryUnavailable();

let s: TestServer;
let dataDir: string;
/** open registry, registry with credentials in registries.yaml, registry reachable only with a pull secret */
let open: TestRegistry | undefined, withConfigAuth: TestRegistry | undefined, withSecretAuth: TestRegistry | undefined;

/** busybox plus a second layer whose /etc/skiff-image says which image this is. */
let baseSpec: ImageSpec;
const image = (marker: string): ImageSpec => ({ ...baseSpec, layers: [...baseSpec.layers, [{ type: 'file', path: 'etc/skiff-image', data: `${marker}\n` }]] });

before(async () => {
  if (skip) return;
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  baseSpec = busyboxImageSpec(readFileSync('/bin/busybox'), applets, 'skiff.local/test:1');

  dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-img-'));
  const dropDir = path.join(dataDir, 'agent', 'images');
  mkdirSync(dropDir, { recursive: true });
  await writeDockerArchive(path.join(dropDir, 'from-docker-save.tar'), { ...image('docker-archive'), tags: ['dropped/busybox:2'] });
  await writeOciArchive(path.join(dropDir, 'oci.tar'), { ...image('oci-archive'), name: 'dropped.local/oci/busybox:1' });
  const gz = path.join(dataDir, 'gz.tar');
  await writeDockerArchive(gz, { ...image('gzipped'), tags: ['dropped/busybox:gz'] });
  writeFileSync(path.join(dropDir, 'gzipped.tar.gz'), gzipSync(readFileSync(gz)));
  writeFileSync(path.join(dropDir, 'broken.tar'), 'not a tar at all\n'.repeat(100));

  if (!skipRegistry) {
    [open, withConfigAuth, withSecretAuth] = await Promise.all([
      startRegistry(), startRegistry({ users: { skiff: 's3cret' } }), startRegistry({ users: { puller: 'pa55' } }),
    ]);
    await pushImage(open.url, 'test/busybox', '1', image('v1'));
    await pushImage(open.url, 'test/busybox', 'latest', image('latest'));
    await pushImage(withConfigAuth.url, 'private/busybox', '1', image('private'), { username: 'skiff', password: 's3cret' });
    await pushImage(withSecretAuth.url, 'secret/busybox', '1', image('secret'), { username: 'puller', password: 'pa55' });
    // The default path, <data-dir>/registries.yaml, as k3s reads /etc/rancher/k3s/registries.yaml.
    writeFileSync(path.join(dataDir, 'registries.yaml'), `mirrors:
  "${open.host}":
    endpoint: ["${open.url}"]
  registry.example:
    endpoint: ["${open.url}"]
configs:
  "${withConfigAuth.host}":
    auth: {username: skiff, password: s3cret}
`);
  }
  s = await startServer({ agent: true, dataDir });
});

after(async () => {
  if (s) {
    await s.stop();
    await s.killall().catch((err) => console.error(String(err)));
  }
  await Promise.all([open?.stop(), withConfigAuth?.stop(), withSecretAuth?.stop()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// ---- helpers ----------------------------------------------------------------------------

async function pod(name: string): Promise<any> {
  return (await s.request('GET', `/api/v1/namespaces/default/pods/${name}`)).json;
}

async function events(name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const r = await s.request('GET', `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`);
  return (r.json.items ?? []).map((e: any) => ({ type: e.type, reason: e.reason, message: e.message }));
}

async function waitPod(name: string, ok: (p: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
  let last: any;
  try {
    return await eventually(async () => { last = await pod(name); return ok(last) && last; }, timeoutMs, `${name}: ${what}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstatus: ${JSON.stringify(last?.status, null, 1)}\nevents: ${JSON.stringify(await events(name), null, 1)}`);
  }
}

const waiting = (p: any) => p.status?.containerStatuses?.[0]?.state?.waiting;

/** A pod that prints /etc/skiff-image and exits. */
async function createPod(name: string, img: string, policy?: string, extra: Record<string, unknown> = {}): Promise<void> {
  const body = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      restartPolicy: 'Never', terminationGracePeriodSeconds: 1, ...extra,
      containers: [{ name: 'main', image: img, command: ['cat', '/etc/skiff-image'], ...(policy ? { imagePullPolicy: policy } : {}) }],
    },
  };
  const r = await s.request('POST', '/api/v1/namespaces/default/pods', { body });
  assert.equal(r.status, 201, r.text);
}

/** Runs a pod to completion; resolves with what it printed. */
async function runPod(name: string, img: string, policy?: string, extra?: Record<string, unknown>): Promise<string> {
  await createPod(name, img, policy, extra);
  await waitPod(name, (p) => p.status?.phase === 'Succeeded', 'Succeeded');
  return (await s.kubectlOk(['logs', name])).trim();
}

// ---- tests ------------------------------------------------------------------------------

test('archives dropped into <data-dir>/agent/images are imported at start: docker-archive, OCI, gzipped; a broken one is skipped', { skip }, async () => {
  const [docker, oci, gz] = await Promise.all([
    runPod('dropped-docker', 'dropped/busybox:2', 'Never'),
    runPod('dropped-oci', 'dropped.local/oci/busybox:1', 'IfNotPresent'),
    runPod('dropped-gz', 'docker.io/dropped/busybox:gz', 'Never'),
  ]);
  assert.equal(docker, 'docker-archive');
  assert.equal(oci, 'oci-archive');
  assert.equal(gz, 'gzipped');
  const ev = await events('dropped-oci');
  assert.ok(ev.some((e) => e.reason === 'Pulled' && e.message === 'Container image "dropped.local/oci/busybox:1" already present on machine'), JSON.stringify(ev));
  assert.ok(!ev.some((e) => e.reason === 'Pulling'), 'IfNotPresent with the image present does not pull');
});

test('imagePullPolicy Never with the image missing: ErrImageNeverPull', { skip }, async () => {
  await createPod('never', 'skiff.local/nothing-here:1', 'Never');
  const p = await waitPod('never', (x) => waiting(x)?.reason === 'ErrImageNeverPull', 'ErrImageNeverPull');
  assert.equal(waiting(p).message, 'Container image "skiff.local/nothing-here:1" is not present with pull policy of Never');
  assert.equal(p.status.phase, 'Pending');
  const ev = await events('never');
  assert.ok(ev.some((e) => e.type === 'Warning' && e.reason === 'ErrImageNeverPull'), JSON.stringify(ev));
});

test('pulls from a plain-HTTP registry; Always pulls again and sees a new push, IfNotPresent does not; no tag means Always', { skip: skipRegistry }, async () => {
  const ref = `${open!.host}/test/busybox:1`;
  assert.equal(await runPod('always-1', ref, 'Always'), 'v1');
  const ev = await events('always-1');
  assert.ok(ev.some((e) => e.reason === 'Pulling' && e.message === `Pulling image "${ref}"`), JSON.stringify(ev));
  const pulled = ev.find((e) => e.reason === 'Pulled');
  assert.match(pulled?.message ?? '', new RegExp(`^Successfully pulled image "${ref.replace(/[.]/g, '\\.')}" in [0-9.]+m?s \\([0-9.]+m?s including waiting\\)\\. Image size: \\d+ bytes\\.$`));

  await pushImage(open!.url, 'test/busybox', '1', image('v2'));
  assert.equal(await runPod('ifnotpresent', ref), 'v1', 'IfNotPresent (the default for a tag) keeps the image it has');
  assert.equal((await pod('ifnotpresent')).spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.ok((await events('ifnotpresent')).some((e) => e.message === `Container image "${ref}" already present on machine`));
  assert.equal(await runPod('always-2', ref, 'Always'), 'v2', 'Always pulls the new image under the same tag');

  const untagged = `${open!.host}/test/busybox`;
  assert.equal(await runPod('untagged', untagged), 'latest');
  assert.equal((await pod('untagged')).spec.containers[0].imagePullPolicy, 'Always');
  assert.ok((await events('untagged')).some((e) => e.reason === 'Pulling'));
});

test('a registries.yaml mirror serves a registry name that does not exist', { skip: skipRegistry }, async () => {
  assert.equal(await runPod('mirrored', 'registry.example/test/busybox:1', 'Always'), 'v2');
  assert.match(open!.output(), /GET \/v2\/test\/busybox\/manifests\//);
});

test('registries.yaml credentials reach a registry with htpasswd auth', { skip: skipRegistry }, async () => {
  assert.equal(await runPod('config-auth', `${withConfigAuth!.host}/private/busybox:1`), 'private');
});

test('a missing image: ErrImagePull, then ImagePullBackOff, with the kubelet\'s events and messages', { skip: skipRegistry }, async () => {
  const ref = `${open!.host}/test/nope:1`;
  await createPod('missing', ref);
  const p1 = await waitPod('missing', (x) => ['ErrImagePull', 'ImagePullBackOff'].includes(waiting(x)?.reason), 'ErrImagePull');
  // ErrImagePull shows for about a second before the next sync turns it into ImagePullBackOff.
  if (waiting(p1).reason === 'ErrImagePull') assert.match(waiting(p1).message, /^rpc error: code = NotFound desc = failed to pull and unpack image/);
  const p2 = await waitPod('missing', (x) => waiting(x)?.reason === 'ImagePullBackOff', 'ImagePullBackOff', 10_000);
  assert.match(waiting(p2).message, new RegExp(`^Back-off pulling image "${ref.replace(/[.]/g, '\\.')}": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image`));
  const ev = await events('missing');
  const has = (type: string, reason: string, message: RegExp | string) =>
    assert.ok(ev.some((e) => e.type === type && e.reason === reason && (typeof message === 'string' ? e.message === message : message.test(e.message))),
      `${type} ${reason} ${message}\n${JSON.stringify(ev, null, 1)}`);
  has('Normal', 'Pulling', `Pulling image "${ref}"`);
  has('Warning', 'Failed', new RegExp(`^Failed to pull image "${ref.replace(/[.]/g, '\\.')}": rpc error: code = NotFound desc = `));
  has('Warning', 'Failed', 'Error: ErrImagePull');
  has('Normal', 'BackOff', `Back-off pulling image "${ref}"`);
  has('Warning', 'Failed', 'Error: ImagePullBackOff');
});

test('imagePullSecrets (kubernetes.io/dockerconfigjson) authenticate the pull; without them it fails', { skip: skipRegistry }, async () => {
  const ref = `${withSecretAuth!.host}/secret/busybox:1`;
  await createPod('no-secret', ref);
  const p = await waitPod('no-secret', (x) => ['ErrImagePull', 'ImagePullBackOff'].includes(waiting(x)?.reason), 'ErrImagePull');
  assert.match(waiting(p).message, /401 Unauthorized|unauthorized|authorization/i);

  await s.kubectlOk(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${withSecretAuth!.host}`, '--docker-username=puller', '--docker-password=pa55']);
  assert.equal(await runPod('with-secret', ref, undefined, { imagePullSecrets: [{ name: 'regcred' }] }), 'secret');

  await createPod('missing-secret', `${withSecretAuth!.host}/secret/busybox:2`, undefined, { imagePullSecrets: [{ name: 'nope' }] });
  await waitPod('missing-secret', (x) => ['ErrImagePull', 'ImagePullBackOff'].includes(waiting(x)?.reason), 'ErrImagePull');
  assert.ok((await events('missing-secret')).some((e) => e.reason === 'FailedToRetrieveImagePullSecret'
    && e.message === 'Unable to retrieve some image pull secrets (nope); attempting to pull the image may not succeed.'));
});
