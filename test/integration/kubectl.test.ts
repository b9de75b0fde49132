// Everyday kubectl 1.32 against a real `skiff server`: the commands a user types.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, eventually, KUBECTL, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

/** A ConfigMap manifest; `kubectl create -f` sends it as JSON. */
const configMap = (name: string, data: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data });

const deployment = (name: string, replicas: number, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 80
`;

test('version and api-resources', async () => {
  const version = await s.kubectlOk(['version', '-o', 'json']);
  assert.equal(JSON.parse(version).serverVersion.minor, '32');
  const resources = await s.kubectlOk(['api-resources']);
  for (const line of [/^pods\s+po\s+v1\s+true\s+Pod$/m, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m]) {
    assert.match(resources, line);
  }
});

test('default namespaces exist and print as a table', async () => {
  const out = await s.kubectlOk(['get', 'namespaces']);
  assert.match(out, /^NAME\s+STATUS\s+AGE$/m);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out, new RegExp(`^${ns}\\s+Active\\s+\\d+s$`, 'm'));
});

test('apply multi-document, re-apply with changes, get in every output format', async () => {
  const cm = `apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { mode: fast }
---
`;
  const out = await s.kubectlOk(['apply', '-f', '-'], { input: cm + deployment('web', 2) });
  assert.match(out, /configmap\/settings created/);
  assert.match(out, /deployment.apps\/web created/);
  const again = await s.kubectlOk(['apply', '-f', '-'], { input: cm + deployment('web', 2) });
  assert.match(again, /configmap\/settings unchanged/);
  assert.match(again, /deployment.apps\/web unchanged/);
  const changed = await s.kubectlOk(['apply', '-f', '-'], { input: deployment('web', 3, 'nginx:1.26') });
  assert.match(changed, /deployment.apps\/web configured/);

  const obj = JSON.parse(await s.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
  assert.equal(obj.spec.replicas, 3);
  assert.equal(obj.spec.template.spec.containers[0].image, 'nginx:1.26');
  assert.equal(obj.metadata.generation, 2);
  assert.ok(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  assert.equal(obj.spec.strategy.type, 'RollingUpdate', 'defaults applied');

  assert.match(await s.kubectlOk(['get', 'deploy', 'web', '-o', 'yaml']), /^kind: Deployment$/m);
  assert.equal(await s.kubectlOk(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');
  assert.equal((await s.kubectlOk(['get', 'deploy', '-o', 'name'])).trim(), 'deployment.apps/web');
  const wide = await s.kubectlOk(['get', 'deploy', 'web', '-o', 'wide']);
  assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
  // No node runs the pods, so none is ready; the deployment controller has made them.
  assert.match(wide, /^web\s+0\/3\s+\d+\s+0\s+\S+\s+web\s+nginx:1.26\s+app=web$/m);
});

test('create, label selectors, field selectors, chunked lists', async () => {
  for (let i = 0; i < 7; i++) {
    await s.kubectlOk(['create', '-f', '-'], { input: configMap(`cm-${i}`, { k: String(i) }) });
    await s.kubectlOk(['label', 'configmap', `cm-${i}`, `tier=${i % 2 ? 'odd' : 'even'}`]);
  }
  const odd = await s.kubectlOk(['get', 'cm', '-l', 'tier=odd', '-o', 'name']);
  assert.deepEqual(odd.trim().split('\n'), ['configmap/cm-1', 'configmap/cm-3', 'configmap/cm-5']);
  const notOdd = await s.kubectlOk(['get', 'cm', '-l', 'tier in (even),tier!=odd', '-o', 'name']);
  assert.equal(notOdd.trim().split('\n').length, 4);
  const byName = await s.kubectlOk(['get', 'cm', '--field-selector', 'metadata.name=cm-4', '-o', 'name']);
  assert.equal(byName.trim(), 'configmap/cm-4');
  const chunked = await s.kubectlOk(['get', 'cm', '--chunk-size=2', '-o', 'name', '-l', 'tier']);
  assert.equal(chunked.trim().split('\n').length, 7);
  const bad = await s.kubectl(['get', 'cm', '--field-selector', 'spec.nope=1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /field label not supported: spec.nope/);
});

test('annotate, patch (json, merge, strategic), scale, replace, dry-run', async () => {
  await s.kubectlOk(['apply', '-f', '-'], { input: deployment('api', 1) });
  await s.kubectlOk(['annotate', 'deploy', 'api', 'owner=team-a']);
  await s.kubectlOk(['patch', 'deploy', 'api', '--type=merge', '-p', '{"spec":{"minReadySeconds":5}}']);
  await s.kubectlOk(['patch', 'deploy', 'api', '--type=json', '-p', '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]']);
  // Strategic: add an env var to the container named web without repeating the rest.
  await s.kubectlOk(['patch', 'deploy', 'api', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}}']);
  await s.kubectlOk(['scale', 'deploy', 'api', '--replicas=4']);
  const obj = JSON.parse(await s.kubectlOk(['get', 'deploy', 'api', '-o', 'json']));
  assert.equal(obj.metadata.annotations.owner, 'team-a');
  assert.equal(obj.spec.minReadySeconds, 5);
  assert.equal(obj.spec.revisionHistoryLimit, 3);
  assert.equal(obj.spec.replicas, 4);
  assert.deepEqual(obj.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }]);
  assert.equal(obj.spec.template.spec.containers[0].image, 'nginx:1.25', 'strategic patch kept the image');

  const dry = await s.kubectlOk(['scale', 'deploy', 'api', '--replicas=9', '--dry-run=server']);
  assert.match(dry, /scaled \(server dry run\)/);
  assert.equal(await s.kubectlOk(['get', 'deploy', 'api', '-o', 'jsonpath={.spec.replicas}']), '4');

  obj.spec.replicas = 2;
  delete obj.metadata.managedFields;
  await s.kubectlOk(['replace', '-f', '-'], { input: JSON.stringify(obj) });
  assert.equal(await s.kubectlOk(['get', 'deploy', 'api', '-o', 'jsonpath={.spec.replicas}']), '2');
  // A stale resourceVersion is a conflict.
  const stale = await s.kubectl(['replace', '-f', '-'], { input: JSON.stringify(obj) });
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /the object has been modified/);
});

test('server-side apply records managedFields and reports conflicts', async () => {
  const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ssa }\ndata: { key: "${v}" }\n`;
  assert.match(await s.kubectlOk(['apply', '--server-side', '-f', '-'], { input: cm('a') }), /serverside-applied/);
  const obj = JSON.parse(await s.kubectlOk(['get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']));
  const entry = obj.metadata.managedFields.find((m: any) => m.manager === 'kubectl');
  assert.equal(entry.operation, 'Apply');
  assert.ok(entry.fieldsV1['f:data']['f:key']);
  const conflict = await s.kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: cm('b') });
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /conflict/i);
  await s.kubectlOk(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: cm('b') });
  assert.equal(await s.kubectlOk(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.key}']), 'b');
});

test('strict validation, explain and diff', async () => {
  const bad = await s.kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: typo }\ndatta: { a: b }\n' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown field "datta"/);
  const explain = await s.kubectlOk(['explain', 'pod.spec.containers.image']);
  assert.match(explain, /FIELD: image <string>/);
  const diff = await s.kubectl(['diff', '-f', '-'], { input: deployment('web', 5, 'nginx:1.26') });
  assert.equal(diff.code, 1, diff.stderr);
  assert.match(diff.stdout, /-  replicas: 3\n\+  replicas: 5/);
});

test('get -w streams changes', async () => {
  await s.kubectlOk(['create', '-f', '-'], { input: configMap('watched', { a: '1' }) });
  const child = spawn(KUBECTL, ['get', 'cm', 'watched', '-w', '-o', 'jsonpath={.data.a}{"\\n"}'], { env: { ...process.env, KUBECONFIG: s.kubeconfig, HOME: s.dataDir } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  try {
    await eventually(async () => out.includes('1\n'), 10_000, 'initial watch event');
    await s.kubectlOk(['patch', 'cm', 'watched', '--type=merge', '-p', '{"data":{"a":"2"}}']);
    await eventually(async () => out.includes('2\n'), 10_000, 'modified watch event');
  } finally {
    child.kill();
  }
});

test('edit through an editor', async () => {
  await s.kubectlOk(['create', '-f', '-'], { input: configMap('edited', { a: '1' }) });
  // The "editor" rewrites the value in place, as a person would.
  const editor = path.join(s.dataDir, 'editor.sh');
  writeFileSync(editor, `#!/bin/sh\nsed -i 's/a: "1"/a: "9"/' "$1"\n`, { mode: 0o755 });
  const r = await s.kubectl(['edit', 'cm', 'edited'], { timeoutMs: 20_000, env: { EDITOR: editor, KUBE_EDITOR: editor } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /configmap\/edited edited/);
  assert.equal(await s.kubectlOk(['get', 'cm', 'edited', '-o', 'jsonpath={.data.a}']), '9');
});

test('delete with --cascade foreground, background and orphan, and --wait', async () => {
  const owner = JSON.parse(await s.kubectlOk(['create', '-f', '-', '-o', 'json'], { input: configMap('owner') }));
  const child = (name: string, ownerUid: string) => JSON.stringify({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: ownerUid, blockOwnerDeletion: true }] },
  });
  await s.kubectlOk(['create', '-f', '-'], { input: child('dep-bg', owner.metadata.uid) });
  await s.kubectlOk(['delete', 'cm', 'owner', '--cascade=background', '--wait']);
  await eventually(async () => (await s.kubectl(['get', 'cm', 'dep-bg'])).code !== 0, 10_000, 'background dependent deletion');

  const owner2 = JSON.parse(await s.kubectlOk(['create', '-f', '-', '-o', 'json'], { input: configMap('owner') }));
  await s.kubectlOk(['create', '-f', '-'], { input: child('dep-fg', owner2.metadata.uid) });
  await s.kubectlOk(['delete', 'cm', 'owner', '--cascade=foreground', '--wait', '--timeout=20s']);
  assert.notEqual((await s.kubectl(['get', 'cm', 'dep-fg'])).code, 0, 'foreground deleted the dependent before the owner');

  const owner3 = JSON.parse(await s.kubectlOk(['create', '-f', '-', '-o', 'json'], { input: configMap('owner') }));
  await s.kubectlOk(['create', '-f', '-'], { input: child('dep-orphan', owner3.metadata.uid) });
  await s.kubectlOk(['delete', 'cm', 'owner', '--cascade=orphan', '--wait', '--timeout=20s']);
  const orphan = JSON.parse(await s.kubectlOk(['get', 'cm', 'dep-orphan', '-o', 'json']));
  assert.equal(orphan.metadata.ownerReferences, undefined);
});

test('namespace deletion removes everything in it, then the namespace', async () => {
  await s.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } }) });
  await s.kubectlOk(['-n', 'doomed', 'create', '-f', '-'], { input: configMap('x') });
  await s.kubectlOk(['-n', 'doomed', 'apply', '-f', '-'], { input: deployment('d', 1) });
  await s.kubectlOk(['delete', 'namespace', 'doomed', '--wait', '--timeout=30s']);
  const r = await s.kubectl(['get', 'namespace', 'doomed']);
  assert.match(r.stderr, /NotFound|not found/);
  const created = await s.kubectl(['-n', 'doomed', 'create', '-f', '-'], { input: configMap('y') });
  assert.match(created.stderr, /namespaces "doomed" not found/);
});

test('kubectl create generators (sent as protobuf) work', async () => {
  await s.kubectlOk(['create', 'namespace', 'gen']);
  await s.kubectlOk(['-n', 'gen', 'create', 'deployment', 'web', '--image=nginx', '--replicas=2', '--port=80']);
  await s.kubectlOk(['-n', 'gen', 'create', 'configmap', 'cfg', '--from-literal=a=b']);
  await s.kubectlOk(['-n', 'gen', 'create', 'secret', 'generic', 'sec', '--from-literal=p=q']);
  await s.kubectlOk(['-n', 'gen', 'create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
  const dep = JSON.parse(await s.kubectlOk(['-n', 'gen', 'get', 'deploy', 'web', '-o', 'json']));
  assert.equal(dep.spec.replicas, 2);
  assert.equal(dep.spec.template.spec.containers[0].image, 'nginx');
  assert.equal(dep.spec.template.spec.containers[0].ports[0].containerPort, 80);
  assert.equal(await s.kubectlOk(['-n', 'gen', 'get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}']), 'b');
  assert.equal(await s.kubectlOk(['-n', 'gen', 'get', 'secret', 'sec', '-o', 'jsonpath={.data.p}']), Buffer.from('q').toString('base64'));
  assert.equal(await s.kubectlOk(['-n', 'gen', 'get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].targetPort}']), '8080');
});
