import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createCertificateAuthority, issueServingCertificate } from '../apiserver/pki/issue-certificates.ts';
import { closerFor } from './close-server.ts';

test('closing cuts a connection still in its TLS handshake, an idle keep-alive one and an open response', async () => {
  const now = new Date();
  const cert = await issueServingCertificate(await createCertificateAuthority(now), { dns: ['localhost'], ips: ['127.0.0.1'] }, now);
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    res.writeHead(200);
    if (req.url === '/stream') res.write('open'); else res.end('done');
  });
  const close = closerFor(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const handshaking = net.connect(port, '127.0.0.1'); // TCP only: never says hello
  await once(handshaking, 'connect');
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
  await new Promise<void>((resolve) => https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => { res.resume(); res.on('end', resolve); }));
  const streaming = await new Promise<import('node:http').IncomingMessage>((resolve) => https.get({ host: '127.0.0.1', port, path: '/stream', agent: false, rejectUnauthorized: false }, resolve));
  const streamEnded = new Promise<void>((resolve) => { streaming.on('close', resolve); streaming.on('error', () => resolve()); streaming.resume(); });
  const handshakeClosed = once(handshaking, 'close');

  const started = Date.now();
  await close();
  await Promise.all([streamEnded, handshakeClosed]);
  assert.ok(Date.now() - started < 2_000, `closed in ${Date.now() - started} ms`);
  assert.equal(server.listening, false);
  await close(); // twice is harmless
  agent.destroy();
});
