// `skiff certificate check|rotate`: expiry shown per certificate; rotation refused while
// the server runs, then new serving and admin certificates from the same CA at the next
// start, with the kubeconfig rewritten and the join token unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skiff, startServer } from '../helpers/cluster.ts';

test('check, refuse while running, rotate, new leaves from the same CA', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-certs-'));
  try {
    let s = await startServer({ dataDir });
    const serial = (f: string) => new X509Certificate(readFileSync(path.join(dataDir, 'tls', f))).serialNumber;
    const before = { serving: serial('serving.crt'), admin: serial('admin.crt'), ca: serial('ca.crt'), token: readFileSync(path.join(dataDir, 'token'), 'utf8') };

    const check = await skiff(['certificate', 'check', '--data-dir', dataDir]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /tls\/serving\.crt\s+.*expires \d{4}-\d\d-\d\dT.*\((\d+) days\)/);
    assert.match(check.stdout, /tls\/admin\.crt\s+.*CN=system:admin/);

    const busy = await skiff(['certificate', 'rotate', '--data-dir', dataDir]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /is running: stop it, rotate, then start it again/);

    await s.stop();
    const rotated = await skiff(['certificate', 'rotate', '--data-dir', dataDir, '--service', 'api-server,admin']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /api-server: moved to tls\/rotated-/);

    s = await startServer({ dataDir });
    assert.notEqual(serial('serving.crt'), before.serving);
    assert.notEqual(serial('admin.crt'), before.admin);
    assert.equal(serial('ca.crt'), before.ca);
    assert.equal(readFileSync(path.join(dataDir, 'token'), 'utf8'), before.token);
    await s.kubectlOk(['get', 'namespaces']); // the rewritten kubeconfig works
    const bad = await skiff(['certificate', 'rotate', '--data-dir', dataDir, '--service', 'etcd']);
    assert.match(bad.stderr, /--service: unknown "etcd"/);
    await s.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
