import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pressureOf, readMachine, readPressure, pickNodeIP } from './machine.ts';
import { capacityOf, conditionsDiffer, nodeConditions, nodeObject, stampConditions } from './node-status.ts';

const machine = { cpus: 4, memoryBytes: 8 * 1024 ** 3, diskBytes: 100 * 1024 ** 3, machineID: 'm', bootID: 'b', kernelVersion: '6.1', osImage: 'Debian', architecture: 'amd64' };

test('capacity from the machine; allocatable keeps back the eviction thresholds', () => {
  const { capacity, allocatable } = capacityOf(machine);
  assert.deepEqual(capacity, { cpu: '4', memory: '8388608Ki', pods: '110', 'ephemeral-storage': '104857600Ki' });
  assert.equal(allocatable.memory, `${8388608 - 102400}Ki`);
  assert.equal(allocatable['ephemeral-storage'], String(Math.floor(100 * 1024 ** 3 * 0.9)));
});

test('pressure: below 100Mi memory, 10% disk, 10% pids', () => {
  const ok = { memoryAvailableBytes: 1e9, diskAvailableBytes: 50, diskTotalBytes: 100, processes: 100, pidMax: 1000 };
  assert.deepEqual(pressureOf(ok), { memory: false, disk: false, pid: false });
  assert.deepEqual(pressureOf({ ...ok, memoryAvailableBytes: 50 * 1024 * 1024, diskAvailableBytes: 5, processes: 950 }), { memory: true, disk: true, pid: true });
  const conds = nodeConditions({ memory: true, disk: false, pid: false }, { ready: false, message: 'cni config uninitialized' });
  assert.deepEqual(conds.map((c) => [c.type, c.status, c.reason]), [
    ['MemoryPressure', 'True', 'KubeletHasInsufficientMemory'], ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID'], ['Ready', 'False', 'KubeletNotReady']]);
});

test('transition times stay while a status holds; a heartbeat alone is no change', () => {
  const a = stampConditions(nodeConditions({ memory: false, disk: false, pid: false }, { ready: true }), undefined, Date.parse('2026-01-01T00:00:00Z'));
  const b = stampConditions(nodeConditions({ memory: false, disk: false, pid: false }, { ready: true }), a, Date.parse('2026-01-01T00:05:00Z'));
  assert.equal(b[3].lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(b[3].lastHeartbeatTime, '2026-01-01T00:05:00Z');
  assert.equal(conditionsDiffer(a, b), false);
  const c = stampConditions(nodeConditions({ memory: false, disk: false, pid: false }, { ready: false }), b, Date.parse('2026-01-01T00:06:00Z'));
  assert.equal(conditionsDiffer(b, c), true);
  assert.equal(c[3].lastTransitionTime, '2026-01-01T00:06:00Z');
});

test('the Node object: labels, addresses, kubelet port, node info', () => {
  const n = nodeObject({ name: 'n1', nodeIP: '192.0.2.9', kubeletPort: 10250, machine, runtimeVersion: 'containerd://1.6.20', labels: { zone: 'a' } }, []);
  assert.equal(n.metadata.labels!['kubernetes.io/hostname'], 'n1');
  assert.equal(n.metadata.labels!.zone, 'a');
  const st = n.status as any;
  assert.deepEqual(st.addresses, [{ type: 'InternalIP', address: '192.0.2.9' }, { type: 'Hostname', address: 'n1' }]);
  assert.equal(st.daemonEndpoints.kubeletEndpoint.Port, 10250);
  assert.equal(st.nodeInfo.containerRuntimeVersion, 'containerd://1.6.20');
});

test('this machine can be read', () => {
  const m = readMachine('/');
  assert.ok(m.cpus >= 1 && m.memoryBytes > 0 && m.diskBytes > 0);
  const p = readPressure('/');
  assert.ok(p.memoryAvailableBytes > 0 && p.pidMax > 0);
  assert.equal(pickNodeIP('10.9.9.9'), '10.9.9.9');
  assert.match(pickNodeIP(), /^\d+\.\d+\.\d+\.\d+$/);
});
