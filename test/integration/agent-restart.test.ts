// Pods outlive the processes that manage them: stopping `skiff server` (and with it the
// agent and containerd) leaves the containers running, and the next start adopts them
// without restarting anything. `skiff killall` then removes everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentUnavailable, eventually, startServer, testClusterCidr } from '../helpers/cluster.ts';

const skip = agentUnavailable();

test('a server restart adopts running pods: same container, no restart; killall cleans up', { skip }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-restart-'));
  const clusterCidr = testClusterCidr();
  let s = await startServer({ dataDir, agent: true, clusterCidr });
  try {
    await s.kubectlOk(['run', 'survivor', '--image=skiff.local/busybox:1', '--', 'sh', '-c', 'echo up; trap "exit 0" TERM; while true; do sleep 1; done']);
    const first = await eventually(async () => {
      const p = (await s.request('GET', '/api/v1/namespaces/default/pods/survivor')).json;
      return p.status?.containerStatuses?.[0]?.state?.running && p;
    }, 30_000, 'survivor running');
    const containerID = first.status.containerStatuses[0].containerID as string;
    const shims = () => { try { return execFileSync('pgrep', ['-f', `containerd-shim-runc-v2.*${dataDir}`]).toString().trim().split('\n').length; } catch { return 0; } };
    const shimsBefore = shims();
    assert.ok(shimsBefore >= 1, 'the pod has a shim');

    await s.stop();
    // Nothing manages the pod now, and it still runs.
    assert.equal(shims(), shimsBefore, 'shims survive the server and containerd');

    s = await startServer({ dataDir, agent: true, clusterCidr });
    // Give the agent a few relists to disagree, if it were going to.
    await new Promise((r) => setTimeout(r, 3_000));
    const again = (await s.request('GET', '/api/v1/namespaces/default/pods/survivor')).json;
    assert.equal(again.status.containerStatuses[0].containerID, containerID);
    assert.equal(again.status.containerStatuses[0].restartCount, 0);
    assert.ok(again.status.containerStatuses[0].state.running);
    assert.equal((await s.kubectlOk(['logs', 'survivor'])).trim(), 'up');
  } finally {
    await s.stop();
    await s.killall();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const left = (() => { try { return execFileSync('pgrep', ['-f', dataDir]).toString().trim(); } catch { return ''; } })();
  assert.equal(left, '', 'no process of this agent is left after killall');
});
