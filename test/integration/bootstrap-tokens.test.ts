// `skiff token create|list|delete`: bootstrap tokens that authenticate as
// system:bootstrap:<id> in system:bootstrappers (what joining nodes use), expire, and stop
// working once deleted; a node trades one for its certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KUBECTL, eventually, skiff, startServer, type TestServer } from '../helpers/cluster.ts';
import { ensureNodeCredentials } from '../../src/agent/credentials.ts';
import { HttpClient } from '../../src/client/http.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const asToken = (token: string, args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
  execFile(KUBECTL, ['--kubeconfig=/dev/null', '--server', s.url, '--certificate-authority', path.join(s.dataDir, 'tls', 'ca.crt'), '--token', token, ...args],
    (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
});

test('create, authenticate, list, expire, delete', async () => {
  const created = await skiff(['token', 'create', '--data-dir', s.dataDir, '--description', 'for rack 4', '--groups', 'system:bootstrappers:rack4']);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  const m = /^K10[0-9a-f]{64}::([a-z0-9]{6})\.[a-z0-9]{16}$/.exec(token);
  assert.ok(m, token);
  const id = m[1]!;

  const who = await asToken(token, ['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.out);
  const info = JSON.parse(who.out).status.userInfo;
  assert.equal(info.username, `system:bootstrap:${id}`);
  assert.deepEqual(info.groups, ['system:bootstrappers', 'system:bootstrappers:rack4', 'system:authenticated']);
  // The bare <id>.<secret> form works too; a wrong secret does not.
  assert.equal((await asToken(token.split('::')[1]!, ['auth', 'whoami'])).code, 0);
  assert.notEqual((await asToken(`${id}.0000000000000000`, ['auth', 'whoami'])).code, 0);

  const list = await skiff(['token', 'list', '--data-dir', s.dataDir]);
  assert.match(list.stdout, new RegExp(`^${id}\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\s+for rack 4$`, 'm'));

  // A node joins with it: the token buys a system:node certificate (what `skiff agent` does
  // first), and the node registers with that; the token itself may do no more than bootstrap.
  const creds = await ensureNodeCredentials({ server: s.url, caPem: readFileSync(path.join(s.dataDir, 'tls', 'ca.crt'), 'utf8'), token, agentDir: path.join(s.dataDir, 'boot-agent'), nodeName: 'boot-0', timeoutMs: 60_000 });
  const node = new HttpClient({ server: s.url, ca: readFileSync(path.join(s.dataDir, 'tls', 'ca.crt'), 'utf8'), cert: creds.certPem, key: creds.keyPem });
  await node.resource('', 'v1', 'nodes').create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'boot-0' } });
  node.close();
  assert.equal((await s.kubectl(['get', 'node', 'boot-0'])).code, 0);
  assert.match((await asToken(token, ['get', 'secrets', '-A'])).out, /forbidden/);
  assert.match((await asToken(token, ['create', 'configmap', 'x'])).out, /forbidden/);

  const deleted = await skiff(['token', 'delete', id, '--data-dir', s.dataDir]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const after = await asToken(token, ['get', 'pods']);
  assert.notEqual(after.code, 0);
  assert.match(after.out, /Unauthorized|must be logged in/);

  // An expired token is refused.
  const short = (await skiff(['token', 'create', '--data-dir', s.dataDir, '--ttl', '1s'])).stdout.trim();
  await new Promise((r) => setTimeout(r, 1_500));
  assert.notEqual((await asToken(short, ['auth', 'whoami'])).code, 0);
  // ... and its Secret is cleaned up.
  const shortId = /::([a-z0-9]{6})\./.exec(short)![1];
  await eventually(async () => (await s.kubectl(['get', 'secret', '-n', 'kube-system', `bootstrap-token-${shortId}`])).code !== 0, 10_000, 'expired token removed');
  assert.doesNotMatch((await skiff(['token', 'list', '--data-dir', s.dataDir])).stdout, new RegExp(`^${shortId}`, 'm'));
});
