// Secrets at rest: with --secrets-encryption the datastore files never hold a Secret in
// plain text, kubectl reads it back as usual, and `skiff secrets-encrypt rotate-keys`
// moves every Secret (plain ones written before encryption too) to a new key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skiff, startServer } from '../helpers/cluster.ts';

/** Every byte under the datastore dir (database, WAL, shared memory). */
function datastoreBytes(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (!p.includes(`${path.sep}tls${path.sep}`) && !p.includes(`${path.sep}cred${path.sep}`)) parts.push(readFileSync(p));
    }
  };
  walk(dir);
  return Buffer.concat(parts);
}

const secretValue = async (s: Awaited<ReturnType<typeof startServer>>, name: string) =>
  Buffer.from((await s.kubectlOk(['get', 'secret', name, '-o', 'jsonpath={.data.password}'])).trim(), 'base64').toString();

test('--secrets-encryption keeps Secrets out of the datastore in plain text; rotate-keys re-encrypts them all', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-enc-'));
  try {
    // Before encryption: a Secret is stored as it is.
    let s = await startServer({ dataDir });
    await s.kubectlOk(['create', 'secret', 'generic', 'early', '--from-literal=password=early-plain-7d1f']);
    await s.stop();
    assert.ok(datastoreBytes(dataDir).includes(Buffer.from('early-plain-7d1f').toString('base64')), 'the unencrypted store holds it');

    s = await startServer({ dataDir, args: ['--secrets-encryption'] });
    await s.kubectlOk(['create', 'secret', 'generic', 'late', '--from-literal=password=late-plain-93ab']);
    assert.equal(await secretValue(s, 'late'), 'late-plain-93ab');
    assert.equal(await secretValue(s, 'early'), 'early-plain-7d1f', 'plain Secrets from before are still read');
    // A watch sees the decrypted object.
    const events = await s.watchEvents('/api/v1/namespaces/default/secrets?watch=1', (e) => e.some((x) => x.object?.metadata?.name === 'late'));
    assert.ok(events.some((e) => e.object?.data?.password === Buffer.from('late-plain-93ab').toString('base64')));
    await s.stop();
    const bytes = datastoreBytes(dataDir);
    for (const needle of ['late-plain-93ab', Buffer.from('late-plain-93ab').toString('base64')]) assert.ok(!bytes.includes(needle), `${needle} found in the datastore`);
    assert.ok(bytes.includes('k8s:enc:aescbc:v1:'));

    const before = await skiff(['secrets-encrypt', 'status', '--data-dir', dataDir]);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /Current key: aescbc:aescbckey-/);
    assert.match(before.stdout, /Secrets under identity: 1/);

    const rotated = await skiff(['secrets-encrypt', 'rotate-keys', '--data-dir', dataDir]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /2 secrets re-encrypted/);
    const after = await skiff(['secrets-encrypt', 'status', '--data-dir', dataDir]);
    assert.doesNotMatch(after.stdout, /identity/);
    const key = /Current key: (\S+)/.exec(after.stdout)![1];
    assert.notEqual(key, /Current key: (\S+)/.exec(before.stdout)![1]);
    assert.match(after.stdout, new RegExp(`Secrets under ${key}: 2`));

    s = await startServer({ dataDir, args: ['--secrets-encryption'] });
    assert.equal(await secretValue(s, 'early'), 'early-plain-7d1f');
    assert.equal(await secretValue(s, 'late'), 'late-plain-93ab');
    // While the server runs, the datastore is its own: the command says to stop it.
    const busy = await skiff(['secrets-encrypt', 'status', '--data-dir', dataDir]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /stop the server/);
    await s.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
