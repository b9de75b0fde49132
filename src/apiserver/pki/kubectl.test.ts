/**
 * The real client's view: kubectl must accept our CA, our SANs and our client key format.
 * Skipped when kubectl is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { ensureClusterCredentials } from './credentials.ts';

const KUBECTL = '/usr/bin/kubectl';
const VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' };

test('kubectl version completes a TLS handshake with our kubeconfig', { skip: !existsSync(KUBECTL) }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-kubectl-'));
  const seenClients: Array<{ authorized: boolean; cn: string | undefined }> = [];
  const creds = await ensureClusterCredentials({ dataDir, serverUrl: 'https://127.0.0.1:1' });

  const server = createServer(
    {
      cert: creds.servingCertPem,
      key: creds.servingKeyPem,
      ca: creds.caCertPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const cn = socket.getPeerCertificate().subject?.CN;
      seenClients.push({ authorized: socket.authorized, cn: Array.isArray(cn) ? cn.join(',') : cn });
      if (new URL(req.url ?? '/', 'https://x').pathname === '/version') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(VERSION));
      } else {
        res.writeHead(404).end();
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    // Rewrite the kubeconfig for the port we got, as the server does on each start.
    await ensureClusterCredentials({ dataDir, serverUrl: `https://127.0.0.1:${port}` });

    const { stdout } = await promisify(execFile)(
      KUBECTL,
      ['--kubeconfig', creds.kubeconfigPath, 'version', '--request-timeout=2s'],
      { env: { PATH: process.env.PATH ?? '', HOME: dataDir }, timeout: 15_000 },
    );
    assert.match(stdout, /Server Version: v1\.32\.0/);
    assert.ok(seenClients.length > 0);
    assert.deepEqual(seenClients[0], { authorized: true, cn: 'system:admin' });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
});
