import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, violations } from './checks.ts';
import { labelErrors, modePolicy } from './admission.ts';

const restrictedOk = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }],
  volumes: [{ name: 'v', emptyDir: {} }, { name: 'p', projected: { sources: [] } }],
};

test('a plain pod under restricted: the four violations, in the words kube-apiserver uses', () => {
  const spec = { containers: [{ name: 'p', image: 'busybox' }] };
  assert.equal(describe(violations('restricted', {}, spec)),
    'allowPrivilegeEscalation != false (container "p" must set securityContext.allowPrivilegeEscalation=false), ' +
    'unrestricted capabilities (container "p" must set securityContext.capabilities.drop=["ALL"]), ' +
    'runAsNonRoot != true (pod or container "p" must set securityContext.runAsNonRoot=true), ' +
    'seccompProfile (pod or container "p" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")');
  assert.deepEqual(violations('baseline', {}, spec), []);
  assert.deepEqual(violations('restricted', {}, restrictedOk), []);
});

test('baseline: host namespaces, privileged, capabilities, hostPath, hostPort, seccomp, sysctls, procMount, SELinux, AppArmor', () => {
  const spec = {
    hostNetwork: true, hostPID: true,
    securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '1' }], seccompProfile: { type: 'Unconfined' } },
    containers: [
      { name: 'a', securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN', 'CHOWN'] } }, ports: [{ containerPort: 80, hostPort: 8080 }] },
      { name: 'b', securityContext: { privileged: true, procMount: 'Unmasked', seLinuxOptions: { type: 'spc_t' } } },
    ],
    volumes: [{ name: 'h', hostPath: { path: '/' } }],
  };
  const text = describe(violations('baseline', { annotations: { 'container.apparmor.security.beta.kubernetes.io/a': 'unconfined' } }, spec));
  for (const part of [
    'host namespaces (hostNetwork=true, hostPID=true)',
    'privileged (containers "a", "b" must not set securityContext.privileged=true)',
    'non-default capabilities (container "a" must not include "NET_ADMIN" in securityContext.capabilities.add)',
    'hostPath volumes (volume "h")',
    'hostPort (container "a" uses hostPort 8080)',
    'forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/a="unconfined")',
    'seLinuxOptions (forbidden securityContext.seLinuxOptions: type "spc_t")',
    'procMount (container "b" must not set securityContext.procMount to "Unmasked")',
    'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    'forbidden sysctls (kernel.msgmax)',
  ]) assert.ok(text.includes(part), `${part}\n in ${text}`);
});

test('restricted extras: volume types, runAsUser=0, added capabilities, init containers count', () => {
  const spec = structuredClone(restrictedOk) as any;
  spec.volumes.push({ name: 'nfs', nfs: { server: 'x', path: '/' } });
  spec.containers[0].securityContext.runAsUser = 0;
  spec.containers[0].securityContext.capabilities.add.push('SYS_TIME');
  spec.initContainers = [{ name: 'init', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }];
  assert.equal(describe(violations('restricted', {}, spec)),
    'unrestricted capabilities (container "c" must not include "SYS_TIME" in securityContext.capabilities.add), ' +
    'restricted volume types (volume "nfs" uses restricted volume type "nfs"), runAsUser=0 (container "c" must not set runAsUser=0)');
});

test('namespace labels: levels and versions, invalid ones refused and enforced as restricted', () => {
  assert.deepEqual(modePolicy({ 'pod-security.kubernetes.io/enforce': 'baseline' }, 'enforce'), { level: 'baseline', version: 'latest' });
  assert.deepEqual(modePolicy({ 'pod-security.kubernetes.io/warn': 'bogus', 'pod-security.kubernetes.io/warn-version': 'v1.29' }, 'warn'), { level: 'restricted', version: 'v1.29' });
  assert.equal(modePolicy({}, 'audit'), undefined);
  assert.deepEqual(labelErrors({ 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/warn-version': '1.29' }).map((e) => e.field), [
    'metadata.labels[pod-security.kubernetes.io/enforce]', 'metadata.labels[pod-security.kubernetes.io/warn-version]',
  ]);
});
