// CriClient against a fake CRI server on a unix socket: encoding (camelCase, int64 as
// strings, enums as names, bytes as Buffers), deadlines and error mapping. No root needed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CriClient, CriError, PROTO_PATH, isNotFound, isUnavailable, nanosToDate, nanosToMs, int64ToNumber } from './client.ts';

type Handler = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => void;

describe('CriClient', () => {
  let dir: string;
  let server: grpc.Server;
  let cri: CriClient;
  const seen: Record<string, any> = {};

  before(async () => {
    dir = mkdtempSync('/tmp/skiff-cri-client-');
    const def = protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: String, enums: String, defaults: true, arrays: true, objects: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    server = new grpc.Server();
    const record = (name: string, res: any): Handler => (call, cb) => {
      seen[name] = call.request;
      cb(null, res);
    };
    server.addService(pkg.runtime.v1.RuntimeService.service, {
      Version: record('Version', { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '1', runtimeApiVersion: 'v1' }),
      RunPodSandbox: record('RunPodSandbox', { podSandboxId: 'sb1' }),
      ContainerStatus: ((call, cb) => {
        if (call.request.containerId === 'missing') return cb({ code: grpc.status.NOT_FOUND, details: 'an error occurred when try to find container "missing": not found' });
        cb(null, { status: { id: 'c1', state: 'CONTAINER_EXITED', createdAt: '1763900000123456789', startedAt: '1763900001000000000', finishedAt: '0', exitCode: 137, reason: 'OOMKilled' } });
      }) as Handler,
      ExecSync: record('ExecSync', { stdout: Buffer.from('hi\n'), stderr: Buffer.alloc(0), exitCode: 0 }),
      StopContainer: ((call, cb) => setTimeout(() => cb(null, {}), 50)) as Handler,
      ListContainers: record('ListContainers', { containers: [] }),
      // 100,000 containers with 100-byte labels: ~26 MB, beyond 16 MiB
      ListContainerStats: ((call, cb) => cb(null, { stats: Array.from({ length: 100_000 }, (_, i) => ({
        attributes: { id: `c${i}`, metadata: { name: 'n', attempt: i }, labels: { big: 'x'.repeat(100) } },
        cpu: { timestamp: '1763900000123456789', usageCoreNanoSeconds: { value: String(2n ** 63n + BigInt(i)) } },
      })) })) as Handler,
      StopPodSandbox: ((call, cb) => setTimeout(() => cb(null, {}), 1000)) as Handler,
      RemovePodSandbox: ((call, cb) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'ünïcode 100% \n"quoted"\nline 2' })) as Handler,
    });
    server.addService(pkg.runtime.v1.ImageService.service, {
      ImageStatus: record('ImageStatus', {}),
    });
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${path.join(dir, 'cri.sock')}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    cri = CriClient.connect(path.join(dir, 'cri.sock'));
  });

  after(() => {
    cri?.close();
    server?.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks camelCase and sends enums by name and int64 as numbers', async () => {
    assert.equal((await cri.waitReady(2000)).runtimeName, 'fake');
    const id = await cri.runPodSandbox({
      metadata: { name: 'p', uid: 'u', namespace: 'default' },
      portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353 }],
      linux: { cgroupParent: '/x', securityContext: { namespaceOptions: { network: 'NODE' }, runAsUser: { value: 1000 } }, resources: { memoryLimitInBytes: 2 ** 40 } },
    }, 'runc');
    assert.equal(id, 'sb1');
    const req = seen.RunPodSandbox;
    assert.equal(req.runtimeHandler, 'runc');
    assert.deepEqual(req.config.portMappings, [{ protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '' }]);
    assert.equal(req.config.linux.securityContext.namespaceOptions.network, 'NODE');
    assert.equal(req.config.linux.securityContext.runAsUser.value, '1000');
    assert.equal(req.config.linux.resources.memoryLimitInBytes, String(2 ** 40));
  });

  it('decodes int64 timestamps as strings and converts them exactly', async () => {
    const st = await cri.containerStatus('c1');
    assert.equal(st.status.createdAt, '1763900000123456789');
    assert.equal(nanosToMs(st.status.createdAt), 1763900000123);
    assert.equal(nanosToDate(st.status.finishedAt), undefined);
    assert.equal(nanosToDate(st.status.startedAt)?.toISOString(), new Date(1763900001000).toISOString());
    assert.deepEqual([st.status.state, st.status.exitCode, st.status.reason, st.status.logPath, st.status.mounts, st.status.image], ['CONTAINER_EXITED', 137, 'OOMKilled', '', [], null]);
    assert.equal(int64ToNumber('1048576'), 1048576);
  });

  it('turns gRPC errors into CriError with the code name', async () => {
    const err = await cri.containerStatus('missing').catch((e: unknown) => e);
    assert.ok(err instanceof CriError);
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.method, 'ContainerStatus');
    assert.match(err.message, /^CRI ContainerStatus: NOT_FOUND: an error occurred/);
    assert.ok(isNotFound(err));
    const unimpl = await cri.podSandboxStats('x').catch((e: unknown) => e);
    assert.equal((unimpl as CriError).code, 'UNIMPLEMENTED');
  });

  it('execSync returns Buffers; exec-family defaults', async () => {
    const r = await cri.execSync('c1', ['echo', 'hi'], 5);
    assert.ok(Buffer.isBuffer(r.stdout));
    assert.deepEqual([r.stdout.toString(), r.stderr.length, r.exitCode], ['hi\n', 0, 0]);
    assert.equal(seen.ExecSync.timeout, '5');
  });

  it('accepts responses beyond 16 MiB', async () => {
    const stats = await cri.listContainerStats();
    assert.equal(stats.length, 100_000);
    assert.deepEqual([stats[99_999]!.attributes!.metadata!.attempt, stats[99_999]!.cpu!.usageCoreNanoSeconds!.value, stats[5]!.memory],
      [99_999, String(2n ** 63n + 99_999n), null]);
  });

  it('enforces deadlines client-side; decodes grpc-message', async () => {
    const t0 = Date.now();
    const err = await cri.stopPodSandbox('slow', 100).catch((e: unknown) => e);
    assert.equal((err as CriError).code, 'DEADLINE_EXCEEDED', String(err));
    assert.ok(Date.now() - t0 < 800);
    const pre = await cri.removePodSandbox('x').catch((e: unknown) => e);
    assert.equal((pre as CriError).code, 'FAILED_PRECONDITION');
    assert.equal((pre as CriError).details, 'ünïcode 100% \n"quoted"\nline 2');
    // the session survives all that
    assert.equal((await cri.version()).runtimeName, 'fake');
  });

  it('reconnects after the runtime restarts on the same socket', async () => {
    const sock = path.join(dir, 'restart.sock');
    const def = protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: String, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const serve = async (name: string) => {
      const s = new grpc.Server();
      s.addService(pkg.runtime.v1.RuntimeService.service, { Version: ((call, cb) => cb(null, { runtimeName: name })) as Handler });
      await new Promise<void>((resolve, reject) => s.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
      return s;
    };
    const c = CriClient.connect(sock);
    try {
      const s1 = await serve('one');
      assert.equal((await c.version()).runtimeName, 'one');
      s1.forceShutdown();
      rmSync(sock, { force: true });
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(isUnavailable(await c.version().catch((e: unknown) => e)));
      const s2 = await serve('two');
      try {
        assert.equal((await c.waitReady(2000)).runtimeName, 'two');
      } finally {
        s2.forceShutdown();
      }
    } finally {
      c.close();
    }
    await assert.rejects(c.version(), /closed/);
  });

  it('image status of a missing image is null; a dead socket is UNAVAILABLE', async () => {
    assert.equal((await cri.imageStatus('nope')).image, null);
    const dead = CriClient.connect(path.join(dir, 'nothing.sock'));
    try {
      const err = await dead.version().catch((e: unknown) => e);
      assert.ok(isUnavailable(err), String(err));
      await assert.rejects(dead.waitReady(300), /not ready after 300 ms/);
    } finally {
      dead.close();
    }
  });
});
