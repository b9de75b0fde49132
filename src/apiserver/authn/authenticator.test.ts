/** Real TLS: an https server as the API server runs it, and clients presenting credentials. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClusterCredentials } from '../pki/credentials.ts';
import type { ClusterCredentials } from '../pki/types.ts';
import { createAuthenticator } from './authenticator.ts';
import type { UserInfo } from './types.ts';

let dataDir: string;
let ours: ClusterCredentials;
let foreign: ClusterCredentials;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'skiff-authn-'));
  ours = await ensureClusterCredentials({ dataDir: join(dataDir, 'ours'), serverUrl: 'https://127.0.0.1:1' });
  foreign = await ensureClusterCredentials({ dataDir: join(dataDir, 'foreign'), serverUrl: 'https://127.0.0.1:1' });
});
after(() => rm(dataDir, { recursive: true, force: true }));

const tokens = new Map<string, UserInfo>([['t0ken-for-alice', { name: 'alice', groups: ['dev'] }]]);

/** Starts a server that answers each request with the authenticator's verdict as JSON. */
async function startServer(trustedCas: string[]): Promise<{ server: Server; port: number }> {
  const authenticate = createAuthenticator({ caCertPem: ours.caCertPem, tokens });
  const server = createServer(
    { cert: ours.servingCertPem, key: ours.servingKeyPem, ca: trustedCas, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(authenticate(req) ?? null));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** Verifies the server against our CA and its IP SAN, as any Kubernetes client does. */
function whoami(
  port: number,
  client: { cert?: string; key?: string; headers?: Record<string, string> } = {},
): Promise<UserInfo | null> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/whoami', ca: ours.caCertPem, agent: false, ...client },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body) as UserInfo | null));
      },
    );
    req.on('error', reject).end();
  });
}

test('the admin client certificate is system:admin in system:masters', async () => {
  const { server, port } = await startServer([ours.caCertPem]);
  try {
    assert.deepEqual(await whoami(port, { cert: ours.adminCertPem, key: ours.adminKeyPem }), {
      name: 'system:admin',
      groups: ['system:masters', 'system:authenticated'],
    });
  } finally {
    await stop(server);
  }
});

test('a bearer token is authenticated; no credentials or a wrong token give nothing', async () => {
  const { server, port } = await startServer([ours.caCertPem]);
  try {
    assert.deepEqual(await whoami(port, { headers: { authorization: 'Bearer t0ken-for-alice' } }), {
      name: 'alice',
      groups: ['dev', 'system:authenticated'],
    });
    assert.equal(await whoami(port), null);
    assert.equal(await whoami(port, { headers: { authorization: 'Bearer t0ken-for-bob' } }), null);
  } finally {
    await stop(server);
  }
});

test('a certificate from another CA is not a user, even if the server trusts that CA', async () => {
  const foreignClient = { cert: foreign.adminCertPem, key: foreign.adminKeyPem };
  const strict = await startServer([ours.caCertPem]);
  const loose = await startServer([ours.caCertPem, foreign.caCertPem]);
  try {
    assert.equal(await whoami(strict.port, foreignClient), null);
    assert.equal(await whoami(loose.port, foreignClient), null);
    // A rejected certificate does not stop a valid token on the same request.
    assert.equal(
      (await whoami(strict.port, { ...foreignClient, headers: { authorization: 'Bearer t0ken-for-alice' } }))?.name,
      'alice',
    );
  } finally {
    await Promise.all([stop(strict.server), stop(loose.server)]);
  }
});
