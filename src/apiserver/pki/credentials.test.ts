import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ensureClusterCredentials } from './credentials.ts';
import { sansOfCertificate } from './subject-alt-names.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const SERVER_URL = 'https://127.0.0.1:6443';

async function withDataDir(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-pki-'));
  try {
    await fn(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

function issuedBy(certPem: string, caPem: string): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

interface Kubeconfig {
  'current-context': string;
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
}

const fromBase64 = (data: string): string => Buffer.from(data, 'base64').toString('utf8');

test('first start generates everything; a second start reuses it unchanged', async () => {
  await withDataDir(async (dataDir) => {
    const first = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    const started = performance.now();
    const second = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    const reuseMs = performance.now() - started;

    assert.deepEqual(second, first);
    // Target is < 20 ms; the bound is loose so a busy test machine does not flake.
    assert.ok(reuseMs < 200, `reusing credentials took ${reuseMs.toFixed(1)} ms`);

    assert.deepEqual((await readdir(join(dataDir, 'tls'))).sort(), [
      'admin.crt',
      'admin.key',
      'ca.crt',
      'ca.key',
      'service-account.key',
      'serving.crt',
      'serving.key',
    ]);
    assert.equal(await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8'), first.caCertPem);
    assert.equal(await readFile(join(dataDir, 'tls', 'serving.key'), 'utf8'), first.servingKeyPem);
    assert.equal(await readFile(join(dataDir, 'tls', 'service-account.key'), 'utf8'), first.serviceAccountKeyPem);
    for (const name of ['ca.key', 'serving.key', 'admin.key', 'service-account.key']) {
      assert.equal(await modeOf(join(dataDir, 'tls', name)), 0o600, name);
    }
    assert.equal(await modeOf(first.tokenPath), 0o600);
    assert.equal(await modeOf(first.kubeconfigPath), 0o600);
    assert.equal(first.tokenPath, join(dataDir, 'token'));
    assert.equal(first.kubeconfigPath, join(dataDir, 'kubeconfig.yaml'));
  });
});

test('the certificates have the names, usages and issuers Kubernetes clients expect', async () => {
  await withDataDir(async (dataDir) => {
    const creds = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    const ca = new X509Certificate(creds.caCertPem);
    assert.ok(ca.ca);
    assert.match(ca.subject, /^CN=skiff-ca@\d+$/);
    assert.ok(ca.verify(ca.publicKey), 'CA is self-signed');
    assert.ok(ca.checkPrivateKey(createPrivateKey(creds.caKeyPem)));

    const serving = new X509Certificate(creds.servingCertPem);
    assert.ok(issuedBy(creds.servingCertPem, creds.caCertPem));
    assert.ok(!serving.ca);
    assert.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1']); // node lists the EKU here
    const sans = sansOfCertificate(serving);
    for (const dns of ['localhost', 'kubernetes', 'kubernetes.default.svc.cluster.local']) {
      assert.ok(sans.dns.includes(dns), dns);
    }
    assert.ok(sans.ips.includes('127.0.0.1'));
    assert.ok(sans.ips.includes('0:0:0:0:0:0:0:1'));
    assert.equal(serving.checkHost('localhost'), 'localhost');
    assert.equal(serving.checkIP('127.0.0.1'), '127.0.0.1');

    const admin = new X509Certificate(creds.adminCertPem);
    assert.ok(issuedBy(creds.adminCertPem, creds.caCertPem));
    assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.match(admin.subject, /CN=system:admin/);
    assert.match(admin.subject, /O=system:masters/);

    const lifetimeDays = (cert: X509Certificate) =>
      Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS);
    assert.equal(lifetimeDays(ca), 3650);
    assert.equal(lifetimeDays(serving), 365);
    assert.equal(lifetimeDays(admin), 365);
  });
});

test('the join token is k3s-shaped, hashes the CA, and survives restarts', async () => {
  await withDataDir(async (dataDir) => {
    const creds = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    const hash = createHash('sha256').update(creds.caCertPem).digest('hex');
    assert.match(creds.joinToken, new RegExp(`^K10${hash}::server:[0-9a-f]{32}$`));
    assert.equal((await readFile(creds.tokenPath, 'utf8')).trim(), creds.joinToken);

    const again = await ensureClusterCredentials({ dataDir, serverUrl: 'https://127.0.0.1:7443' });
    assert.equal(again.joinToken, creds.joinToken);
  });
});

test('an operator-given token secret is used and kept', async () => {
  await withDataDir(async (dataDir) => {
    const creds = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL, token: 'sekret' });
    assert.match(creds.joinToken, /^K10[0-9a-f]{64}::server:sekret$/);
    const again = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    assert.equal(again.joinToken, creds.joinToken);
  });
});

test('the kubeconfig parses, points at the server, and its certificates chain to the CA', async () => {
  await withDataDir(async (dataDir) => {
    const creds = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    const config = parse(await readFile(creds.kubeconfigPath, 'utf8')) as Kubeconfig;
    assert.equal(config['current-context'], 'skiff');
    assert.deepEqual(config.contexts, [{ name: 'skiff', context: { cluster: 'skiff', user: 'admin' } }]);
    const cluster = config.clusters.find((c) => c.name === 'skiff')!.cluster;
    const user = config.users.find((u) => u.name === 'admin')!.user;
    assert.equal(cluster.server, SERVER_URL);

    const caPem = fromBase64(cluster['certificate-authority-data']);
    const clientPem = fromBase64(user['client-certificate-data']);
    const clientKey = createPrivateKey(fromBase64(user['client-key-data']));
    assert.equal(caPem, creds.caCertPem);
    assert.ok(issuedBy(clientPem, caPem));
    assert.ok(new X509Certificate(clientPem).checkPrivateKey(clientKey));
    assert.ok(issuedBy(creds.servingCertPem, caPem));

    // Rewritten on every start, so a new port shows up.
    await ensureClusterCredentials({ dataDir, serverUrl: 'https://127.0.0.1:7443' });
    const rewritten = parse(await readFile(creds.kubeconfigPath, 'utf8')) as Kubeconfig;
    assert.equal(rewritten.clusters[0]!.cluster.server, 'https://127.0.0.1:7443');
  });
});

test('a new extra SAN regenerates only the serving certificate', async () => {
  await withDataDir(async (dataDir) => {
    const before = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    const after = await ensureClusterCredentials({
      dataDir,
      serverUrl: SERVER_URL,
      extraSans: ['10.99.0.1', 'skiff.example.com', 'fd12::7'],
    });
    assert.notEqual(after.servingCertPem, before.servingCertPem);
    assert.notEqual(after.servingKeyPem, before.servingKeyPem);
    assert.equal(after.caCertPem, before.caCertPem);
    assert.equal(after.adminCertPem, before.adminCertPem);
    assert.equal(after.joinToken, before.joinToken);
    assert.ok(issuedBy(after.servingCertPem, before.caCertPem));

    const serving = new X509Certificate(after.servingCertPem);
    assert.equal(serving.checkIP('10.99.0.1'), '10.99.0.1');
    assert.equal(serving.checkHost('skiff.example.com'), 'skiff.example.com');
    assert.ok(sansOfCertificate(serving).ips.includes('fd12:0:0:0:0:0:0:7'));
    assert.equal(await readFile(join(dataDir, 'tls', 'serving.crt'), 'utf8'), after.servingCertPem);

    // Same SANs again (in another spelling): nothing to regenerate.
    const again = await ensureClusterCredentials({
      dataDir,
      serverUrl: SERVER_URL,
      extraSans: ['SKIFF.example.com', '10.99.0.1', 'fd12:0::7'],
    });
    assert.equal(again.servingCertPem, after.servingCertPem);
  });
});

test('leaf certificates are renewed within 30 days of expiry; the CA is kept', async () => {
  await withDataDir(async (dataDir) => {
    const start = new Date('2030-01-01T00:00:00Z');
    const at = (days: number) => () => new Date(start.getTime() + days * DAY_MS);
    const first = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL, clock: at(0) });

    const day300 = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL, clock: at(300) });
    assert.equal(day300.servingCertPem, first.servingCertPem, 'still 65 days left');
    assert.equal(day300.adminCertPem, first.adminCertPem);

    const day340 = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL, clock: at(340) });
    assert.notEqual(day340.servingCertPem, first.servingCertPem);
    assert.notEqual(day340.adminCertPem, first.adminCertPem);
    assert.equal(day340.caCertPem, first.caCertPem);
    assert.equal(day340.joinToken, first.joinToken);
    const renewed = new X509Certificate(day340.servingCertPem);
    assert.equal(Date.parse(renewed.validTo), at(340 + 365)().getTime());
  });
});

test('a damaged or foreign leaf is replaced, and a lost CA starts a new chain', async () => {
  await withDataDir(async (dataDir) => {
    const first = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });

    // A serving key that does not match its certificate (e.g. a crash between writes).
    const other = await ensureClusterCredentials({ dataDir: join(dataDir, 'other'), serverUrl: SERVER_URL });
    await writeFile(join(dataDir, 'tls', 'serving.key'), other.servingKeyPem);
    // An admin certificate from another cluster's CA.
    await writeFile(join(dataDir, 'tls', 'admin.crt'), other.adminCertPem);
    await writeFile(join(dataDir, 'tls', 'admin.key'), other.adminKeyPem);

    const repaired = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    assert.equal(repaired.caCertPem, first.caCertPem);
    assert.notEqual(repaired.servingCertPem, first.servingCertPem);
    assert.ok(new X509Certificate(repaired.servingCertPem).checkPrivateKey(createPrivateKey(repaired.servingKeyPem)));
    assert.ok(issuedBy(repaired.adminCertPem, first.caCertPem));

    await rm(join(dataDir, 'tls', 'ca.key'));
    const rebuilt = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    assert.notEqual(rebuilt.caCertPem, first.caCertPem);
    assert.ok(issuedBy(rebuilt.servingCertPem, rebuilt.caCertPem));
    assert.ok(issuedBy(rebuilt.adminCertPem, rebuilt.caCertPem));
    // Same secret, new CA hash.
    assert.equal(rebuilt.joinToken.split('::')[1], first.joinToken.split('::')[1]);
    assert.notEqual(rebuilt.joinToken, first.joinToken);
  });
});

test('a loosened kubeconfig or token mode is put back to 0600', async () => {
  await withDataDir(async (dataDir) => {
    const creds = await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    await chmod(creds.kubeconfigPath, 0o644);
    await chmod(creds.tokenPath, 0o644);
    await ensureClusterCredentials({ dataDir, serverUrl: SERVER_URL });
    assert.equal(await modeOf(creds.kubeconfigPath), 0o600);
    assert.equal(await modeOf(creds.tokenPath), 0o600);
  });
});
