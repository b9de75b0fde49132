// End-to-end check against a real kubectl's protobuf body; skipped when kubectl is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtobufObject, PROTOBUF_CONTENT_TYPE } from './index.ts';

const KUBECTL = '/usr/bin/kubectl';

test('decodes the body kubectl create configmap sends', { skip: !existsSync(KUBECTL), timeout: 20_000 }, async () => {
  let captured: { type: string | undefined; body: Buffer } | undefined;
  // Answer everything with 404: kubectl only probes /version before POSTing a configmap.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') captured ??= { type: req.headers['content-type'], body: Buffer.concat(chunks) };
      res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const home = mkdtempSync(join(tmpdir(), 'skiff-kubectl-'));
  try {
    const { port } = server.address() as AddressInfo;
    const args = ['--server', `http://127.0.0.1:${port}`, 'create', 'configmap', 'x', '--from-literal=a=b'];
    args.push('--dry-run=server', '-n', 'default', '-o', 'name');
    // kubectl exits non-zero after our 404; only the captured request matters.
    await new Promise<void>((resolve) => execFile(KUBECTL, args, { env: { ...process.env, HOME: home }, timeout: 15_000 }, () => resolve()));
  } finally {
    server.close();
    rmSync(home, { recursive: true, force: true });
  }
  assert.ok(captured, 'kubectl sent no POST');
  assert.equal(captured.type, PROTOBUF_CONTENT_TYPE);
  const obj = decodeProtobufObject(captured.body);
  assert.equal(obj.kind, 'ConfigMap');
  assert.deepEqual(obj.metadata, { name: 'x', namespace: 'default' });
  assert.deepEqual(obj.data, { a: 'b' });
});
