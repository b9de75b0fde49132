// End to end: a real containerd (child process) + runc + CNI, driven through CriClient.
// Needs root and containerd/runc/CNI plugins installed; skipped otherwise. Everything
// gets unique names (temp dir /tmp/skiff-cri-*, CIDR 10.<random>.<random>.0/24) and is torn
// down with killall, which the tests then check left nothing behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { CriClient, nanosToMs, isNotFound } from '../cri/client.ts';
import type { ContainerConfig, PodSandboxConfig } from '../cri/types.ts';
import { ensureBuiltinImages, PAUSE_IMAGE, BUSYBOX_IMAGE, type BuiltinImage } from '../images/builtin.ts';
import { Containerd } from './process.ts';
import { killall, mountsUnder } from './killall.ts';
import { agentNames } from './names.ts';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const bin of ['containerd', 'ctr', 'runc', 'iptables-save', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} not installed`;
    }
  }
  if (!existsSync('/usr/lib/cni/bridge')) return 'CNI plugins not in /usr/lib/cni';
  if (!existsSync('/bin/busybox')) return 'busybox-static not installed';
  return false;
}
const skip = skipReason();

const randomCidr = () => `10.${100 + (randomBytes(1)[0]! % 150)}.${randomBytes(1)[0]!}.0/24`;

function inCidr(ip: string, cidr: string): boolean {
  const toN = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toN(ip) / size) === Math.floor(toN(base!) / size);
}

function sandboxConfig(dir: string, agentDir: string, name: string, hostPort?: number): PodSandboxConfig {
  const uid = randomUUID();
  return {
    metadata: { name, uid, namespace: 'default', attempt: 0 },
    hostname: name,
    logDirectory: path.join(dir, 'pods', uid),
    portMappings: hostPort ? [{ protocol: 'TCP', containerPort: 8080, hostPort }] : [],
    labels: { 'skiff.test': 'yes' },
    linux: {
      cgroupParent: `${agentNames(agentDir).cgroupParent}/pod${uid}`,
      securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
    },
  };
}

function busybox(name: string, command: string[]): ContainerConfig {
  return {
    metadata: { name, attempt: 0 },
    image: { image: BUSYBOX_IMAGE },
    command,
    logPath: `${name}/0.log`,
    envs: [{ key: 'GREETING', value: 'hello' }],
    linux: { resources: { memoryLimitInBytes: 64 * 1024 * 1024, cpuShares: 256, cpuPeriod: 100000, cpuQuota: 50000 } },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the machine shows of one agent: used to assert killall left nothing. */
function leftovers(agentDir: string, netns: string[], sandboxIds: string[] = []): string[] {
  const n = agentNames(agentDir);
  const out: string[] = [];
  const results = '/var/lib/cni/results';
  for (const f of existsSync(results) ? readdirSync(results) : []) {
    if (f.startsWith(n.network) || sandboxIds.some((id) => f.includes(id))) out.push(`cni cache ${f}`);
  }
  for (const p of netns) if (existsSync(p)) out.push(`netns ${p}`);
  if (existsSync(`/sys/class/net/${n.bridge}`)) out.push(`bridge ${n.bridge}`);
  for (const t of ['nat', 'filter']) {
    const save = execFileSync('iptables-save', ['-t', t], { encoding: 'utf8' });
    for (const l of save.split('\n')) if (l.includes(n.network)) out.push(`iptables ${t}: ${l}`);
  }
  for (const m of mountsUnder(agentDir)) out.push(`mount ${m}`);
  for (const pid of execFileSync('sh', ['-c', 'ls /proc | grep -E "^[0-9]+$" || true'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(n.socket) || cmd.includes(n.configFile)) out.push(`process ${pid}: ${cmd.replace(/\0/g, ' ')}`);
    } catch {
      /* gone */
    }
  }
  if (existsSync(path.join('/sys/fs/cgroup/memory', n.cgroupParent))) out.push(`cgroup memory${n.cgroupParent}`);
  return out;
}

/** HTTP status of a GET, retried while the server is still starting. */
function httpStatus(url: string, timeoutMs = 10_000): Promise<number> {
  return until(`GET ${url}`, async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return undefined;
    }
  }, timeoutMs);
}

function netnsOf(info: Record<string, string>): string {
  const doc = JSON.parse(info.info ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
  return doc.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '';
}

describe('containerd + CRI end to end', { skip, timeout: 240_000 }, () => {
  let tmp: string;
  let images: BuiltinImage[];
  const timings: Record<string, number[]> = {};
  const time = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      (timings[key] ??= []).push(Math.round(performance.now() - t0));
    }
  };

  before(async () => {
    tmp = mkdtempSync('/tmp/skiff-cri-');
    images = await ensureBuiltinImages(path.join(tmp, 'images'));
  });

  after(async () => {
    console.log('timings (ms):', JSON.stringify(timings));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('runs a pod: sandbox IP in the CIDR, logs, exec, status, stats, stop, remove; killall leaves nothing', async () => {
    const agentDir = path.join(tmp, 'a1');
    const cidr = randomCidr();
    const cd = new Containerd({ agentDir, pauseImage: PAUSE_IMAGE, podCidr: cidr });
    const netns: string[] = [];
    const sids: string[] = [];
    try {
      await time('containerd start', () => cd.start());
      const imported = await time('image import (2 archives)', () => cd.importImages(images));
      assert.deepEqual(imported.map((r) => r.imported), [true, true]);
      const again = await time('image import (already present)', () => cd.importImages(images));
      assert.deepEqual(again.map((r) => r.imported), [false, false]);

      const cri = cd.client();
      try {
        const v = await cri.version();
        assert.equal(v.runtimeApiVersion, 'v1');
        const st = await cri.status();
        assert.ok(st.status?.conditions.some((c) => c.type === 'NetworkReady' && c.status), JSON.stringify(st));
        const imgs = await cri.listImages();
        assert.ok(imgs.some((i) => i.repoTags.includes(BUSYBOX_IMAGE)));
        assert.ok((await cri.imageStatus(BUSYBOX_IMAGE)).image);
        assert.equal((await cri.imageStatus('skiff.local/nope:1')).image, null);
        assert.ok((await cri.imageFsInfo()).length > 0);

        const hostPort = 20000 + (randomBytes(2).readUInt16BE() % 20000);
        const sbc = sandboxConfig(tmp, agentDir, 'p1', hostPort);
        const sid = await time('RunPodSandbox', () => cri.runPodSandbox(sbc));
        sids.push(sid);
        const sst = await cri.podSandboxStatus(sid, true);
        assert.equal(sst.status.state, 'SANDBOX_READY');
        assert.ok(sst.status.network && inCidr(sst.status.network.ip, cidr), `${sst.status.network?.ip} in ${cidr}`);
        assert.ok(Math.abs(nanosToMs(sst.status.createdAt) - Date.now()) < 60_000);
        netns.push(netnsOf(sst.info));
        assert.match(netns[0]!, /^\/var\/run\/netns\/cni-/);

        const cfg = busybox('c1', ['sh', '-c', 'echo hello; echo oops >&2; sleep 3600']);
        const cid = await time('CreateContainer', () => cri.createContainer(sid, cfg, sbc));
        await time('StartContainer', () => cri.startContainer(cid));

        const logFile = path.join(sbc.logDirectory!, 'c1/0.log');
        const log = await until('log lines', () => {
          const t = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
          return t.includes('stderr F oops') ? t : undefined;
        });
        assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F hello$/m);

        const ex = await time('ExecSync', () => cri.execSync(cid, ['sh', '-c', 'echo hi; echo $GREETING >&2; exit 3'], 10));
        assert.equal(ex.stdout.toString(), 'hi\n');
        assert.equal(ex.stderr.toString(), 'hello\n');
        assert.equal(ex.exitCode, 3);
        const ok = await cri.execSync(cid, ['echo', 'hi'], 10);
        assert.deepEqual([ok.exitCode, ok.stdout.toString()], [0, 'hi\n']);

        const url = await cri.exec({ containerId: cid, cmd: ['sh'], stdin: true, tty: true });
        assert.match(url, /^http:\/\/127\.0\.0\.1:[1-9]\d*\/exec\/\S+$/);
        assert.match(await cri.attach({ containerId: cid, stdin: true }), /^http:\/\/127\.0\.0\.1:[1-9]\d*\/attach\//);
        assert.match(await cri.portForward(sid, [8080]), /^http:\/\/127\.0\.0\.1:[1-9]\d*\/portforward\//);

        const cs = await cri.containerStatus(cid, true);
        assert.equal(cs.status.state, 'CONTAINER_RUNNING');
        assert.ok(nanosToMs(cs.status.startedAt) > 0);
        assert.equal(cs.status.finishedAt, '0');
        assert.equal(cs.status.logPath, logFile);
        assert.equal(cs.status.imageRef.startsWith('sha256:'), true);
        assert.equal(cs.status.resources?.linux?.memoryLimitInBytes, String(64 * 1024 * 1024));
        const list = await cri.listContainers({ podSandboxId: sid });
        assert.deepEqual(list.map((c) => [c.id, c.state]), [[cid, 'CONTAINER_RUNNING']]);
        assert.equal((await cri.listPodSandbox({ labelSelector: { 'skiff.test': 'yes' } })).length, 1);

        await cri.updateContainerResources(cid, { memoryLimitInBytes: 96 * 1024 * 1024, cpuShares: 512 });
        const upd = await cri.containerStatus(cid);
        assert.equal(upd.status.resources?.linux?.memoryLimitInBytes, String(96 * 1024 * 1024));

        const stats = await cri.containerStats(cid);
        assert.ok(Number(stats.memory?.workingSetBytes?.value ?? 0) > 0, JSON.stringify(stats));
        assert.ok((await cri.listContainerStats({ podSandboxId: sid })).length === 1);
        let podStats = 'implemented';
        try {
          const ps = await cri.podSandboxStats(sid);
          assert.ok(ps.linux);
        } catch (err) {
          podStats = (err as Error).message;
        }
        console.log('PodSandboxStats:', podStats);

        // hostPort DNAT rule exists while the pod runs
        assert.ok(execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).includes(`--dport ${hostPort}`));

        await time('StopContainer (timeout 1 s)', () => cri.stopContainer(cid, 1));
        const stopped = await cri.containerStatus(cid);
        assert.equal(stopped.status.state, 'CONTAINER_EXITED');
        assert.ok([137, 143].includes(stopped.status.exitCode), String(stopped.status.exitCode));
        console.log(`stopped container: exit ${stopped.status.exitCode}, reason ${stopped.status.reason}`);
        assert.equal(stopped.status.reason, 'Error');
        assert.ok(nanosToMs(stopped.status.finishedAt) >= nanosToMs(stopped.status.startedAt));

        // a container that exits by itself: Completed, exit 0
        const c2 = await cri.createContainer(sid, busybox('c2', ['true']), sbc);
        await cri.startContainer(c2);
        const done = await until('c2 exit', async () => {
          const s = await cri.containerStatus(c2);
          return s.status.state === 'CONTAINER_EXITED' ? s : undefined;
        });
        assert.deepEqual([done.status.exitCode, done.status.reason], [0, 'Completed']);

        await cri.removeContainer(cid);
        await cri.removeContainer(c2);
        await assert.rejects(cri.containerStatus(cid), (e) => isNotFound(e));
        await time('StopPodSandbox', () => cri.stopPodSandbox(sid));
        await time('RemovePodSandbox', () => cri.removePodSandbox(sid));
        await assert.rejects(cri.podSandboxStatus(sid), (e) => isNotFound(e));
      } finally {
        cri.close();
      }
    } finally {
      await cd.stop();
      const r = await killall(agentDir);
      assert.deepEqual(r.errors, []);
    }
    assert.deepEqual(leftovers(agentDir, netns, sids), []);
  });

  it('two agents side by side, and killall of one with pods running leaves the other alone', async () => {
    const dirs = [path.join(tmp, 'b1'), path.join(tmp, 'b2')];
    const cidrs = [randomCidr(), randomCidr()];
    const cds = dirs.map((agentDir, i) => new Containerd({ agentDir, pauseImage: PAUSE_IMAGE, podCidr: cidrs[i]! }));
    const netns: string[][] = [[], []];
    try {
      await Promise.all(cds.map((c) => c.start()));
      await Promise.all(cds.map((c) => c.importImages(images)));
      const clients = cds.map((c) => c.client());
      const pods = await Promise.all(clients.map(async (cri, i) => {
        const hostPort = 20000 + (randomBytes(2).readUInt16BE() % 20000);
        const sbc = sandboxConfig(tmp, dirs[i]!, `p${i}`, hostPort);
        const sid = await time('RunPodSandbox (2 agents at once)', () => cri.runPodSandbox(sbc));
        const st = await cri.podSandboxStatus(sid, true);
        assert.ok(inCidr(st.status.network!.ip, cidrs[i]!));
        netns[i]!.push(netnsOf(st.info));
        const cid = await cri.createContainer(sid, busybox('c', ['httpd', '-f', '-p', '8080', '-h', '/etc']), sbc);
        await cri.startContainer(cid);
        return { sid, cid, ip: st.status.network!.ip, hostPort };
      }));
      // each pod is reachable from the host through its own bridge
      for (const p of pods) assert.equal(await httpStatus(`http://${p.ip}:8080/hostname`), 200);
      // hostPort (portmap DNAT) through the host's own address
      const hostIp = execFileSync('ip', ['-4', '-o', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' }).match(/src (\S+)/)?.[1];
      if (hostIp) for (const p of pods) assert.equal(await httpStatus(`http://${hostIp}:${p.hostPort}/hostname`), 200);
      let viaLoopback = 'works';
      try {
        await httpStatus(`http://127.0.0.1:${pods[0]!.hostPort}/hostname`, 3000);
      } catch (err) {
        viaLoopback = (err as Error).message;
      }
      console.log(`hostPort via 127.0.0.1: ${viaLoopback}`);
      assert.notEqual(agentNames(dirs[0]!).bridge, agentNames(dirs[1]!).bridge);

      // tear down agent 0 the hard way: containerd killed, pods still running
      await cds[0]!.stop();
      const r = await time('killall (1 pod running, containerd down)', () => killall(dirs[0]!));
      assert.deepEqual(r.errors, []);
      assert.ok(r.processesKilled >= 3, JSON.stringify(r)); // pause + sleep + shim
      assert.deepEqual(leftovers(dirs[0]!, netns[0]!, [pods[0]!.sid]), []);

      // agent 1 is untouched
      const s1 = await clients[1]!.containerStatus(pods[1]!.cid);
      assert.equal(s1.status.state, 'CONTAINER_RUNNING');
      assert.equal((await clients[1]!.execSync(pods[1]!.cid, ['echo', 'still'], 5)).stdout.toString(), 'still\n');
      assert.equal(await httpStatus(`http://${pods[1]!.ip}:8080/hostname`), 200);

      // graceful path: killall with containerd up
      clients.forEach((c) => c.close());
      const r1 = await killall(dirs[1]!);
      assert.equal(r1.sandboxesRemoved, 1);
      assert.deepEqual(r1.errors, []);
      await cds[1]!.stop();
      assert.deepEqual(leftovers(dirs[1]!, netns[1]!, [pods[1]!.sid]), []);
    } finally {
      for (const c of cds) await c.stop();
      for (const d of dirs) await killall(d);
    }
  });

  it('containerd killed -9 is restarted and adopts the running container; stop() leaves pods running', async () => {
    const agentDir = path.join(tmp, 'c1');
    const cd = new Containerd({ agentDir, pauseImage: PAUSE_IMAGE, podCidr: randomCidr(), restartBackoffMs: [200, 2000] });
    const sids: string[] = [];
    try {
      await cd.start();
      await cd.importImages(images);
      const cri = cd.client();
      try {
        const sbc = sandboxConfig(tmp, agentDir, 'r1');
        const sid = await cri.runPodSandbox(sbc);
        sids.push(sid);
        const cid = await cri.createContainer(sid, busybox('c', ['sleep', '3600']), sbc);
        await cri.startContainer(cid);
        const pidOf = async () => (JSON.parse((await cri.containerStatus(cid, true)).info.info!) as { pid: number }).pid;
        const pid = await pidOf();

        const oldPid = cd.pid!;
        const restarted = new Promise<number>((r) => cd.once('started', (e) => r(e.ms)));
        process.kill(oldPid, 'SIGKILL');
        const ms = await restarted;
        (timings['containerd restart after kill -9 (start part)'] ??= []).push(ms);
        assert.notEqual(cd.pid, oldPid);
        assert.equal(cd.restarts, 1);
        await cri.waitReady(10_000);
        const st = await cri.containerStatus(cid);
        assert.equal(st.status.state, 'CONTAINER_RUNNING');
        assert.equal(await pidOf(), pid);
        assert.equal((await cri.execSync(cid, ['echo', 'adopted'], 5)).stdout.toString(), 'adopted\n');

        // a plain stop: containerd goes, the container and its shim stay
        await cd.stop();
        assert.equal(cd.pid, undefined);
        assert.ok(existsSync(`/proc/${pid}`), 'container survives containerd stop');
        await new Promise((r) => setTimeout(r, 300));
        assert.ok(existsSync(`/proc/${pid}`));
        await cd.start();
        await cri.waitReady(10_000);
        assert.equal((await cri.containerStatus(cid)).status.state, 'CONTAINER_RUNNING');
      } finally {
        cri.close();
      }
    } finally {
      await cd.stop();
      const r = await killall(agentDir);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(leftovers(agentDir, [], sids), []);
    }
  });

  it('measures 10 pods one after another', async () => {
    const agentDir = path.join(tmp, 'd1');
    const cd = new Containerd({ agentDir, pauseImage: PAUSE_IMAGE, podCidr: randomCidr() });
    const sids: string[] = [];
    try {
      await cd.start();
      await cd.importImages(images);
      const cri = cd.client();
      try {
        for (let i = 0; i < 10; i++) {
          const sbc = sandboxConfig(tmp, agentDir, `m${i}`);
          const t0 = performance.now();
          const sid = await time('bench RunPodSandbox', () => cri.runPodSandbox(sbc));
          sids.push(sid);
          const cid = await time('bench CreateContainer', () => cri.createContainer(sid, busybox('c', ['sleep', '3600']), sbc));
          await time('bench StartContainer', () => cri.startContainer(cid));
          (timings['bench pod total'] ??= []).push(Math.round(performance.now() - t0));
        }
      } finally {
        cri.close();
      }
    } finally {
      await cd.stop();
      const r = await time('killall (10 pods, containerd down)', () => killall(agentDir));
      assert.deepEqual(r.errors, []);
      assert.deepEqual(leftovers(agentDir, [], sids), []);
    }
  });
});
