import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { expand, mappingFuncFor } from '../env/index.ts';
import { containerConfig, linuxResources, sandboxConfig, LABEL_POD_UID } from './cri-config.ts';

const GiB = 1024 ** 3;

function pod(spec: Record<string, any>): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns', uid: 'u-1', labels: { app: 'web' } }, spec };
}

test('sandbox: labels, hostname, host ports, namespaces, cgroup parent', () => {
  const p = pod({ containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] }], hostPID: true });
  const s = sandboxConfig(p, { logDirectory: '/logs/x', cgroupParent: '/skiff/pod-u-1', nodeName: 'n1', attempt: 2 });
  assert.deepEqual(s.metadata, { name: 'web', uid: 'u-1', namespace: 'ns', attempt: 2 });
  assert.equal(s.hostname, 'web');
  assert.equal(s.labels![LABEL_POD_UID], 'u-1');
  assert.equal(s.labels!.app, 'web');
  assert.deepEqual(s.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
  assert.deepEqual(s.linux!.securityContext!.namespaceOptions, { network: 'POD', pid: 'NODE', ipc: 'POD' });
  assert.equal(s.linux!.cgroupParent, '/skiff/pod-u-1');
  const host = sandboxConfig(pod({ hostNetwork: true, containers: [] }), { logDirectory: '/l', cgroupParent: '/c', nodeName: 'n1', attempt: 0 });
  assert.equal(host.hostname, '', 'runc cannot set a hostname in the host UTS namespace');
  assert.equal(host.linux!.securityContext!.namespaceOptions!.network, 'NODE');
});

test('resources: shares from requests, quota from limits, memory limit, oom_score_adj by QoS', () => {
  const c = { name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } } };
  const r = linuxResources(pod({ containers: [c] }), c, 8 * GiB);
  assert.equal(r.cpuShares, '256');
  assert.equal(r.cpuQuota, '50000');
  assert.equal(r.cpuPeriod, '100000');
  assert.equal(r.memoryLimitInBytes, String(128 * 1024 * 1024));
  assert.ok(Number(r.oomScoreAdj) > 2 && Number(r.oomScoreAdj) < 1000, 'burstable');
  const g = { name: 'g', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } };
  assert.equal(linuxResources(pod({ containers: [g] }), g, 8 * GiB).oomScoreAdj, '-997');
  const be = { name: 'b' };
  const rb = linuxResources(pod({ containers: [be] }), be, 8 * GiB);
  assert.deepEqual([rb.oomScoreAdj, rb.cpuShares, rb.cpuQuota, rb.memoryLimitInBytes], ['1000', '2', '0', '0']);
});

test('container: $(VAR) expanded in command and args, $$ escapes, unknown left alone', () => {
  assert.equal(expand('$(A)-$(B)-$$(A)', mappingFuncFor(new Map([['A', 'x']]))), 'x-$(B)-$(A)');
  const c = { name: 'c', image: 'img', command: ['echo', '$(GREETING)'], args: ['$(NAME)'], tty: true, stdin: true, securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false } };
  const cfg = containerConfig(pod({ containers: [c] }), c, {
    attempt: 3, kind: 'regular', image: 'img', envs: [{ name: 'GREETING', value: 'hi' }], mounts: [], logPath: 'c/3.log', nodeMemoryBytes: GiB,
  });
  assert.deepEqual(cfg.command, ['echo', 'hi']);
  assert.deepEqual(cfg.args, ['$(NAME)']);
  assert.deepEqual(cfg.metadata, { name: 'c', attempt: 3 });
  assert.equal(cfg.logPath, 'c/3.log');
  assert.equal(cfg.tty, true);
  assert.deepEqual(cfg.linux!.securityContext!.runAsUser, { value: '1000' });
  assert.equal(cfg.linux!.securityContext!.noNewPrivs, true);
});
