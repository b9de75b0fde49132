// Secrets encryption keys on a shared etcd: `skiff secrets-encrypt rotate-keys
// --datastore-endpoint` re-encrypts every Secret in etcd and saves the new keys in the
// cluster's bootstrap data, so the restarted server and a server joining afterwards with
// the token both read the Secrets; it refuses while a server is running. Skipped when etcd
// is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, skiff, startServer } from '../helpers/cluster.ts';
import type { TestServer } from '../helpers/cluster.ts';
import { etcdBinary, startEtcd } from '../../src/store/etcd/local-etcd.ts';

const skip = etcdBinary() ? false : 'etcd is not installed (apt-get install etcd-server)';

/** Raw values under /registry/secrets/ as etcd holds them. */
const rawSecrets = (endpoint: string): Promise<string> => new Promise((resolve, reject) => {
  execFile('etcdctl', ['--endpoints', endpoint, 'get', '--prefix', '/registry/secrets/', '--print-value-only'], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 64 << 20 },
    (err, stdout, stderr) => (err ? reject(new Error(`etcdctl: ${stderr}`)) : resolve(stdout)));
});

const password = async (s: TestServer, name: string): Promise<string> =>
  Buffer.from((await s.kubectlOk(['get', 'secret', name, '-o', 'jsonpath={.data.password}'])).trim(), 'base64').toString();

const currentKey = (out: string): string => /Current key: (\S+)/.exec(out)?.[1] ?? assert.fail(`no current key in ${out}`);

test('secrets-encrypt rotate-keys on etcd: new key in etcd and in the bootstrap data, refused while a server runs', { skip, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-enc-etcd-'));
  const etcd = await startEtcd({ dataDir: join(dir, 'etcd') });
  const servers: TestServer[] = [];
  t.after(async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => {})));
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const common = ['--datastore-endpoint', etcd.endpoint, '--secrets-encryption'];
  const a = await startServer({ dataDir: join(dir, 'a'), args: common });
  servers.push(a);
  await a.kubectlOk(['create', 'secret', 'generic', 'one', '--from-literal=password=one-plain-5c2e']);
  await a.kubectlOk(['create', 'secret', 'generic', 'two', '-n', 'kube-system', '--from-literal=password=two-plain-81fa']);
  const token = readFileSync(join(a.dataDir, 'token'), 'utf8').trim();
  const endpointArgs = ['--datastore-endpoint', etcd.endpoint];

  const before = await skiff(['secrets-encrypt', 'status', ...endpointArgs, '--data-dir', a.dataDir]);
  assert.equal(before.code, 0, before.stderr);
  const oldKey = currentKey(before.stdout);
  assert.match(oldKey, /^aescbc:aescbckey-/);
  assert.match(before.stdout, new RegExp(`Secrets under ${oldKey}: \\d+`));
  assert.ok((await rawSecrets(etcd.endpoint)).includes(`k8s:enc:${oldKey.replace(':', ':v1:')}:`));

  // A running server would keep the old keys: refused, nothing changed.
  const busy = await skiff(['secrets-encrypt', 'rotate-keys', ...endpointArgs, '--data-dir', a.dataDir]);
  assert.equal(busy.code, 1, busy.stdout);
  assert.match(busy.stderr, /servers are running on this datastore \(skiff-apiserver-.*stop every server first/);
  // Without a token (no data dir holding one) the sealed keys cannot be read.
  const noToken = await skiff(['secrets-encrypt', 'status', ...endpointArgs, '--data-dir', join(dir, 'nowhere')]);
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /give --token/);
  const wrongToken = await skiff(['secrets-encrypt', 'status', ...endpointArgs, '--token', 'not-the-token']);
  assert.equal(wrongToken.code, 1);
  assert.match(wrongToken.stderr, /token does not match/);

  await a.stop();
  servers.length = 0;
  // A clean stop deletes the Lease; allow for one that only lapses (20 s).
  let rotated!: Awaited<ReturnType<typeof skiff>>;
  await eventually(async () => {
    rotated = await skiff(['secrets-encrypt', 'rotate-keys', ...endpointArgs, '--data-dir', a.dataDir]);
    return rotated.code === 0 || !/servers are running/.test(rotated.stderr);
  }, 60_000, 'the stopped server\'s Lease to go');
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /new key aescbc:\S+; \d+ secrets re-encrypted; old keys removed/);

  const after = await skiff(['secrets-encrypt', 'status', ...endpointArgs, '--token', token]);
  assert.equal(after.code, 0, after.stderr);
  const newKey = currentKey(after.stdout);
  assert.notEqual(newKey, oldKey);
  assert.doesNotMatch(after.stdout, new RegExp(`${oldKey}|identity`));
  const raw = await rawSecrets(etcd.endpoint);
  assert.ok(raw.includes(`k8s:enc:${newKey.replace(':', ':v1:')}:`), 'etcd holds values under the new key');
  assert.ok(!raw.includes(oldKey.split(':')[1]!), 'no value under the old key');
  for (const plain of ['one-plain-5c2e', 'two-plain-81fa']) {
    assert.ok(!raw.includes(plain) && !raw.includes(Buffer.from(plain).toString('base64')), `${plain} in plain text in etcd`);
  }
  const localFile = readFileSync(join(a.dataDir, 'cred', 'encryption-config.json'), 'utf8');
  assert.ok(localFile.includes(newKey.split(':')[1]!) && !localFile.includes(oldKey.split(':')[1]!), 'the data dir\'s file has the new key only');

  // The restarted server and one joining now (keys from the bootstrap data) read both Secrets.
  const [a2, b] = await Promise.all([
    startServer({ dataDir: a.dataDir, args: common }),
    startServer({ dataDir: join(dir, 'b'), args: [...common, '--token', token] }),
  ]);
  servers.push(a2, b);
  for (const s of [a2, b]) {
    assert.equal(await password(s, 'one'), 'one-plain-5c2e');
    assert.equal(Buffer.from((await s.kubectlOk(['get', 'secret', 'two', '-n', 'kube-system', '-o', 'jsonpath={.data.password}'])).trim(), 'base64').toString(), 'two-plain-81fa');
  }
  assert.equal(readFileSync(join(b.dataDir, 'cred', 'encryption-config.json'), 'utf8'), localFile, 'the joining server installed the rotated keys');
  // A Secret written now by B is read by A (same keys).
  await b.kubectlOk(['create', 'secret', 'generic', 'three', '--from-literal=password=three-plain-0d9b']);
  assert.equal(await password(a2, 'three'), 'three-plain-0d9b');
});
