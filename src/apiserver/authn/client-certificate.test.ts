import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { ensureClusterCredentials } from '../pki/credentials.ts';
import type { ClusterCredentials } from '../pki/types.ts';
import { createClientCertificateAuthenticator } from './client-certificate.ts';

let dataDir: string;
let creds: ClusterCredentials;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'skiff-clientcert-'));
  creds = await ensureClusterCredentials({ dataDir, serverUrl: 'https://127.0.0.1:1' });
});
after(() => rm(dataDir, { recursive: true, force: true }));

/**
 * A TLS socket as node hands it over after a handshake, without the handshake: the
 * certificate bytes are real (so the CA check runs), the parsed subject is what we say.
 */
function requestOn(peer: { authorized: boolean; subject: Record<string, string | string[]> }) {
  const socket = new TLSSocket(new Socket());
  let peerCertificateReads = 0;
  Object.defineProperty(socket, 'authorized', { value: peer.authorized });
  socket.getPeerCertificate = (() => {
    peerCertificateReads++;
    return { subject: peer.subject, raw: new X509Certificate(creds.adminCertPem).raw };
  }) as unknown as TLSSocket['getPeerCertificate'];
  return { req: { socket, headers: {} } as unknown as IncomingMessage, reads: () => peerCertificateReads };
}

test('every O value becomes a group, and CN the user name', () => {
  const authenticate = createClientCertificateAuthenticator(creds.caCertPem);
  const { req } = requestOn({ authorized: true, subject: { CN: 'system:node:n1', O: ['system:nodes', 'team-a'] } });
  assert.deepEqual(authenticate(req), {
    name: 'system:node:n1',
    groups: ['system:nodes', 'team-a', 'system:authenticated'],
  });
});

test('a certificate with no CN, or one the TLS layer did not authorize, is no user', () => {
  const authenticate = createClientCertificateAuthenticator(creds.caCertPem);
  assert.equal(authenticate(requestOn({ authorized: true, subject: { O: 'system:masters' } }).req), undefined);
  assert.equal(authenticate(requestOn({ authorized: false, subject: { CN: 'system:admin' } }).req), undefined);
});

test('a connection is looked at once, however many requests it carries', () => {
  const authenticate = createClientCertificateAuthenticator(creds.caCertPem);
  const { req, reads } = requestOn({ authorized: true, subject: { CN: 'system:admin', O: 'system:masters' } });
  for (let i = 0; i < 3; i++) assert.equal(authenticate(req)?.name, 'system:admin');
  assert.equal(reads(), 1);
});

test('a plain (non-TLS) connection is no user', () => {
  const authenticate = createClientCertificateAuthenticator(creds.caCertPem);
  assert.equal(authenticate({ socket: new Socket(), headers: {} } as unknown as IncomingMessage), undefined);
});
