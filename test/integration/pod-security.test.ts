// PodSecurity admission through kubectl: a namespace's pod-security.kubernetes.io labels
// refuse violating pods (enforce) or warn about them and about workloads (warn).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const compliant = (ns: string) => `apiVersion: v1
kind: Pod
metadata: { name: good, namespace: ${ns} }
spec:
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: c
      image: busybox
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
`;

test('enforce=restricted refuses kubectl run with the message Kubernetes gives, and admits a compliant pod', async () => {
  await s.kubectlOk(['create', 'namespace', 'locked']);
  await s.kubectlOk(['label', 'namespace', 'locked', 'pod-security.kubernetes.io/enforce=restricted']);
  const r = await s.kubectl(['run', 'p', '--image=busybox', '-n', 'locked']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim(), 'Error from server (Forbidden): pods "p" is forbidden: violates PodSecurity "restricted:latest": ' +
    'allowPrivilegeEscalation != false (container "p" must set securityContext.allowPrivilegeEscalation=false), ' +
    'unrestricted capabilities (container "p" must set securityContext.capabilities.drop=["ALL"]), ' +
    'runAsNonRoot != true (pod or container "p" must set securityContext.runAsNonRoot=true), ' +
    'seccompProfile (pod or container "p" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")');
  assert.equal((await s.kubectl(['get', 'pod', 'p', '-n', 'locked'])).code, 1, 'nothing stored');
  await s.kubectlOk(['apply', '-f', '-'], { input: compliant('locked') });
  assert.match(await s.kubectlOk(['get', 'pod', 'good', '-n', 'locked', '-o', 'name']), /pod\/good/);
});

test('enforce=baseline refuses privileged pods only; warn=restricted warns on pods and workloads', async () => {
  await s.kubectlOk(['create', 'namespace', 'mixed']);
  await s.kubectlOk(['label', 'namespace', 'mixed', 'pod-security.kubernetes.io/enforce=baseline', 'pod-security.kubernetes.io/warn=restricted']);
  const priv = await s.kubectl(['run', 'priv', '--image=busybox', '-n', 'mixed', '--overrides={"spec":{"containers":[{"name":"priv","image":"busybox","securityContext":{"privileged":true}}]}}']);
  assert.notEqual(priv.code, 0);
  assert.match(priv.stderr, /violates PodSecurity "baseline:latest": privileged \(container "priv" must not set securityContext.privileged=true\)/);
  const plain = await s.kubectl(['run', 'plain', '--image=busybox', '-n', 'mixed']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /^Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/m);
  const deploy = await s.kubectl(['create', 'deployment', 'web', '--image=busybox', '-n', 'mixed']);
  assert.equal(deploy.code, 0, deploy.stderr);
  assert.match(deploy.stderr, /Warning: would violate PodSecurity "restricted:latest": .*runAsNonRoot != true/);
});

test('invalid label values are refused with a 422', async () => {
  const r = await s.kubectl(['label', 'namespace', 'default', 'pod-security.kubernetes.io/enforce=strict']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /is invalid: metadata.labels\[pod-security.kubernetes.io\/enforce\]: Invalid value: "strict": must be one of privileged, baseline, restricted/);
});
