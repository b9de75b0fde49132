import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseKubeconfig } from './kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('reads the current context: inline data, and files relative to the kubeconfig', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-kc-'));
  try {
    writeFileSync(path.join(dir, 'ca.pem'), 'CA-FILE');
    writeFileSync(path.join(dir, 'token'), 'secret-token\n');
    const text = `
apiVersion: v1
kind: Config
current-context: second
clusters:
  - name: a
    cluster: { server: "https://a:6443", certificate-authority-data: ${b64('CA-A')} }
  - name: b
    cluster: { server: "https://b:6443", certificate-authority: ca.pem }
users:
  - name: admin
    user: { client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')} }
  - name: node
    user: { tokenFile: token }
contexts:
  - name: first
    context: { cluster: a, user: admin }
  - name: second
    context: { cluster: b, user: node }
`;
    const second = parseKubeconfig(text, dir);
    assert.equal(second.server, 'https://b:6443');
    assert.equal(second.ca?.toString(), 'CA-FILE');
    assert.equal(second.token, 'secret-token');
    assert.equal(second.cert, undefined);

    const first = parseKubeconfig(text, dir, 'first');
    assert.equal(first.server, 'https://a:6443');
    assert.equal(first.ca?.toString(), 'CA-A');
    assert.equal(first.cert?.toString(), 'CERT');
    assert.equal(first.key?.toString(), 'KEY');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a kubeconfig without a server is an error', () => {
  assert.throws(() => parseKubeconfig('clusters: []', '/'), /no cluster/);
});

test('several servers of one cluster: the skiff.io/servers extension (kubectl ignores it), or a comma list', () => {
  const withExtension = parseKubeconfig(`
clusters:
  - name: ha
    cluster:
      server: https://a:6443/
      extensions:
        - name: other.example/thing
          extension: { servers: [https://nope:1] }
        - name: skiff.io/servers
          extension: { servers: [https://b:6443, https://a:6443, https://c:6443] }
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: ha, user: u } }]
current-context: c
`, '/');
  assert.equal(withExtension.server, 'https://a:6443');
  assert.deepEqual(withExtension.servers, ['https://a:6443', 'https://b:6443', 'https://c:6443']);
  const comma = parseKubeconfig(`
clusters: [{ name: ha, cluster: { server: "https://a:6443,https://b:6443" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: c, context: { cluster: ha, user: u } }]
`, '/');
  assert.equal(comma.server, 'https://a:6443');
  assert.deepEqual(comma.servers, ['https://a:6443', 'https://b:6443']);
  const one = parseKubeconfig(`clusters: [{ name: x, cluster: { server: "https://a:6443" } }]`, '/');
  assert.deepEqual(one.servers, ['https://a:6443']);
});
