// --token-auth-file: static bearer tokens authenticate as their user and groups; an
// unknown token is a 401.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KUBECTL, startServer, type TestServer } from '../helpers/cluster.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-tokens-'));
const file = path.join(dir, 'tokens.csv');
writeFileSync(file, 'tok-alice-31d9,alice,u-1,"dev,ops"\n');
let s: TestServer;
before(async () => { s = await startServer({ args: ['--token-auth-file', file] }); });
after(async () => { await s?.stop(); rmSync(dir, { recursive: true, force: true }); });

const asToken = (token: string, args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
  execFile(KUBECTL, ['--kubeconfig=/dev/null', '--server', s.url, '--certificate-authority', path.join(s.dataDir, 'tls', 'ca.crt'), '--token', token, ...args],
    (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }));
});

test('a token from the file is its user; an unknown one is refused', async () => {
  const who = await asToken('tok-alice-31d9', ['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.out);
  const info = JSON.parse(who.out).status.userInfo;
  assert.equal(info.username, 'alice');
  assert.equal(info.uid, 'u-1');
  assert.deepEqual(info.groups, ['dev', 'ops', 'system:authenticated']);
  const bad = await asToken('tok-nobody', ['get', 'pods']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /Unauthorized|must be logged in/);
});
