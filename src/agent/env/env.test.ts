import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../api/object.ts';
import { ClientError } from '../../client/types.ts';
import { expand, mappingFuncFor } from './expansion.ts';
import { extractFieldPathAsString, formatMap } from './fieldpath.ts';
import { quantityCeil } from './resources.ts';
import { EnvError, resolveEnv } from './resolve.ts';
import { fromServices } from './service-env.ts';
import type { EnvDeps } from './types.ts';

type Json = Record<string, any>;

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function pod(spec: Json, meta: Json = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' }, annotations: { 'a.b/c': 'x"y' }, ...meta },
    spec: { nodeName: 'node-a', serviceAccountName: 'builder', containers: [], ...spec },
  };
}

function svc(ns: string, name: string, clusterIP: string, ports: Json[] = [{ port: 80 }]): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { clusterIP, ports } };
}

function deps(over: Partial<EnvDeps> = {}, objects: { cms?: Json; secrets?: Json; services?: KObject[] } = {}): EnvDeps & { calls: string[] } {
  const calls: string[] = [];
  const cms = objects.cms ?? {};
  const secrets = objects.secrets ?? {};
  const services = objects.services ?? [svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }])];
  return {
    calls,
    getConfigMap: async (ns, name) => {
      calls.push(`cm ${ns}/${name}`);
      return cms[name] ? { metadata: { namespace: ns, name }, data: cms[name] } : undefined;
    },
    getSecret: async (ns, name) => {
      calls.push(`secret ${ns}/${name}`);
      if (!secrets[name]) throw new ClientError(404, 'NotFound', `secrets "${name}" not found`);
      return { metadata: { namespace: ns, name }, data: secrets[name] };
    },
    listServices: async (ns) => services.filter((s) => s.metadata.namespace === ns),
    nodeAllocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' },
    podIP: '10.42.0.7',
    podIPs: ['10.42.0.7', 'fd00::7'],
    hostIP: '192.168.1.10',
    ...over,
  };
}

const toObj = (env: { name: string; value: string }[]): Record<string, string> => Object.fromEntries(env.map((e) => [e.name, e.value]));

describe('expansion', () => {
  const m = mappingFuncFor(new Map([['A', 'a'], ['B', 'b']]));
  it('expands $(VAR), escapes $$ and keeps unknown references', () => {
    assert.equal(expand('$(A)-$(B)', m), 'a-b');
    assert.equal(expand('$$(A)', m), '$(A)');
    assert.equal(expand('$(C)', m), '$(C)');
    assert.equal(expand('x$', m), 'x$');
    assert.equal(expand('$A', m), '$A');
    assert.equal(expand('$(A', m), '$(A');
    assert.equal(expand('$$$$', m), '$$');
    assert.equal(expand('$()', m), '$()');
  });
});

describe('service links', () => {
  it('builds the docker-link variables for each port', () => {
    const env = toObj(fromServices([svc('shop', 'redis-master', '10.43.0.9', [{ port: 6379 }, { name: 'metrics', port: 9121, protocol: 'UDP' }])]));
    assert.deepEqual(env, {
      REDIS_MASTER_SERVICE_HOST: '10.43.0.9',
      REDIS_MASTER_SERVICE_PORT: '6379',
      REDIS_MASTER_SERVICE_PORT_METRICS: '9121',
      REDIS_MASTER_PORT: 'tcp://10.43.0.9:6379',
      REDIS_MASTER_PORT_6379_TCP: 'tcp://10.43.0.9:6379',
      REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
      REDIS_MASTER_PORT_6379_TCP_ADDR: '10.43.0.9',
      REDIS_MASTER_PORT_9121_UDP: 'udp://10.43.0.9:9121',
      REDIS_MASTER_PORT_9121_UDP_PROTO: 'udp',
      REDIS_MASTER_PORT_9121_UDP_PORT: '9121',
      REDIS_MASTER_PORT_9121_UDP_ADDR: '10.43.0.9',
    });
  });

  it('brackets IPv6 cluster IPs', () => {
    const env = toObj(fromServices([svc('shop', 'v6', 'fd00::1', [{ port: 80 }])]));
    assert.equal(env.V6_PORT, 'tcp://[fd00::1]:80');
  });

  it('includes namespace services with a cluster IP, and always default/kubernetes', async () => {
    const services = [
      svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }]),
      svc('default', 'other', '10.43.0.2'),
      svc('shop', 'cart', '10.43.0.3'),
      svc('shop', 'headless', 'None'),
    ];
    const env = toObj(await resolveEnv(pod({}), { name: 'c' }, deps({}, { services })));
    assert.equal(env.KUBERNETES_SERVICE_HOST, '10.43.0.1');
    assert.equal(env.KUBERNETES_SERVICE_PORT, '443');
    assert.equal(env.KUBERNETES_SERVICE_PORT_HTTPS, '443');
    assert.equal(env.KUBERNETES_PORT_443_TCP_ADDR, '10.43.0.1');
    assert.equal(env.CART_SERVICE_HOST, '10.43.0.3');
    assert.equal(env.OTHER_SERVICE_HOST, undefined);
    assert.equal(env.HEADLESS_SERVICE_HOST, undefined);

    const off = toObj(await resolveEnv(pod({ enableServiceLinks: false }), { name: 'c' }, deps({}, { services })));
    assert.equal(off.KUBERNETES_SERVICE_HOST, '10.43.0.1');
    assert.equal(off.CART_SERVICE_HOST, undefined);
  });
});

describe('resolveEnv', () => {
  it('orders service vars, envFrom, env; env overrides envFrom overrides services', async () => {
    const services = [svc('default', 'kubernetes', '10.43.0.1', [{ port: 443 }])];
    const c = {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' } }, { secretRef: { name: 'sec' }, prefix: 'S_' }],
      env: [
        { name: 'KUBERNETES_SERVICE_HOST', value: 'override' },
        { name: 'MODE', value: 'env' },
        { name: 'PLAIN', value: 'p' },
      ],
    };
    const d = deps({}, { services, cms: { cfg: { MODE: 'cm', COLOR: 'blue' } }, secrets: { sec: { PASS: b64('hunter2') } } });
    const env = await resolveEnv(pod({}), c, d);
    const names = env.map((e) => e.name);
    assert.equal(names[0], 'KUBERNETES_SERVICE_PORT');
    assert.ok(!names.slice(0, 7).includes('KUBERNETES_SERVICE_HOST'));
    assert.deepEqual(names.slice(-5), ['COLOR', 'S_PASS', 'KUBERNETES_SERVICE_HOST', 'MODE', 'PLAIN']);
    const o = toObj(env);
    assert.equal(o.KUBERNETES_SERVICE_HOST, 'override');
    assert.equal(o.MODE, 'env');
    assert.equal(o.S_PASS, 'hunter2');
    assert.equal(new Set(names).size, names.length, 'each name once');
  });

  it('expands $(VAR) against earlier vars, envFrom and services, not later ones', async () => {
    const c = {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' } }],
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-$(LATER)-$$(A)-$(COLOR)-$(KUBERNETES_SERVICE_HOST)' },
        { name: 'LATER', value: 'z' },
        { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } },
        { name: 'NOT_EXPANDED_FROM', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'REF' } } },
        { name: 'EMPTY' },
      ],
    };
    const d = deps({}, { cms: { cfg: { COLOR: 'blue', REF: '$(A)' } }, secrets: { sec: { k: b64('s3') } } });
    const o = toObj(await resolveEnv(pod({}), c, d));
    assert.equal(o.B, 'a-$(LATER)-$(A)-blue-10.43.0.1');
    assert.equal(o.FROM_SECRET, 's3');
    assert.equal(o.NOT_EXPANDED_FROM, '$(A)');
    assert.equal(o.EMPTY, '');
    assert.deepEqual(d.calls, ['cm shop/cfg', 'secret shop/sec'], 'each object fetched once');
  });

  it('fieldRef: metadata, spec and status fields', async () => {
    const f = (fieldPath: string) => ({ name: fieldPath.replace(/\W/g, '_'), valueFrom: { fieldRef: { fieldPath } } });
    const paths = [
      'metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['a.b/c']",
      "metadata.labels['missing']", 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs',
      'status.podIP', 'status.podIPs', 'metadata.labels',
    ];
    const env = await resolveEnv(pod({}), { name: 'c', env: paths.map(f) }, deps({ hostIPs: ['192.168.1.10', 'fd01::10'] }));
    assert.deepEqual(env.filter((e) => !e.name.startsWith('KUBERNETES')).map((e) => e.value), [
      'web-0', 'shop', 'uid-1', 'web', 'x"y', '', 'node-a', 'builder', '192.168.1.10', '192.168.1.10,fd01::10',
      '10.42.0.7', '10.42.0.7,fd00::7', 'app="web"',
    ]);
  });

  it('fieldRef: an unsupported path is an EnvError', async () => {
    await assert.rejects(
      resolveEnv(pod({}), { name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.containers' } } }] }, deps()),
      (e: unknown) => e instanceof EnvError && e.message === 'field label not supported: spec.containers',
    );
  });

  it('resourceFieldRef: divisors round up; missing limits default to node allocatable', async () => {
    const c = {
      name: 'c',
      resources: { requests: { cpu: '250m', memory: '100Mi' }, limits: { cpu: '1500m' } },
      env: [
        { name: 'LIM_CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'LIM_CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
        { name: 'REQ_CPU', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1' } } },
        { name: 'REQ_CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'REQ_MEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
        { name: 'REQ_MEM_MI', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
        { name: 'REQ_MEM_G', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1G' } } },
        { name: 'LIM_MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Gi' } } },
        { name: 'LIM_EPH', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage', divisor: '1Gi' } } },
        { name: 'REQ_EPH', valueFrom: { resourceFieldRef: { resource: 'requests.ephemeral-storage' } } },
        { name: 'OTHER', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'limits.cpu', divisor: '1m' } } },
      ],
    };
    const p = pod({ containers: [c, { name: 'side', resources: { limits: { cpu: '0.1' } } }] });
    const o = toObj(await resolveEnv(p, c, deps()));
    assert.deepEqual(
      [o.LIM_CPU, o.LIM_CPU_M, o.REQ_CPU, o.REQ_CPU_M, o.REQ_MEM, o.REQ_MEM_MI, o.REQ_MEM_G, o.LIM_MEM, o.LIM_EPH, o.REQ_EPH, o.OTHER],
      ['2', '1500', '1', '250', String(100 * 2 ** 20), '100', '1', '8', '100', '0', '100'],
    );
  });

  it('resourceFieldRef: an unsupported resource is an EnvError', async () => {
    await assert.rejects(
      resolveEnv(pod({}), { name: 'c', env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.nvidia.com/gpu' } } }] }, deps()),
      /unsupported container resource : limits.nvidia.com\/gpu/,
    );
  });

  it('missing objects and keys: kubelet messages, or skipped when optional', async () => {
    const run = (env: Json[], envFrom: Json[] = []) =>
      resolveEnv(pod({}), { name: 'c', env, envFrom }, deps({}, { cms: { cfg: { a: '1' } }, secrets: { sec: { a: b64('1') } } }));
    const isEnvError = (msg: string) => (e: unknown) => e instanceof EnvError && e.message === msg && e.reason === 'CreateContainerConfigError';
    await assert.rejects(run([], [{ configMapRef: { name: 'nope' } }]), isEnvError('configmap "nope" not found'));
    await assert.rejects(run([], [{ secretRef: { name: 'nope' } }]), isEnvError('secret "nope" not found'));
    await assert.rejects(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'a' } } }]), isEnvError('configmap "nope" not found'));
    await assert.rejects(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }]), isEnvError("couldn't find key k in ConfigMap shop/cfg"));
    await assert.rejects(run([{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'a' } } }]), isEnvError('secret "nope" not found'));
    await assert.rejects(run([{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } }]), isEnvError("couldn't find key k in Secret shop/sec"));

    const ok = toObj(
      await run(
        [
          { name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'a', optional: true } } },
          { name: 'Y', valueFrom: { secretKeyRef: { name: 'sec', key: 'k', optional: true } } },
          { name: 'Z', value: '$(X)' },
        ],
        [{ configMapRef: { name: 'nope', optional: true } }, { secretRef: { name: 'nope', optional: true } }],
      ),
    );
    assert.equal('X' in ok, false);
    assert.equal('Y' in ok, false);
    assert.equal(ok.Z, '$(X)');
  });

  it('envFrom skips invalid names (after the prefix) and warns', async () => {
    const warnings: string[] = [];
    const d = deps({ onWarning: (reason, msg) => warnings.push(`${reason}: ${msg}`) }, { cms: { cfg: { '1BAD': 'x', 'good.name': 'y', 'with space': 'z' } } });
    const o = toObj(await resolveEnv(pod({}), { name: 'c', envFrom: [{ configMapRef: { name: 'cfg' } }] }, d));
    assert.equal(o['good.name'], 'y');
    assert.equal(o['1BAD'], undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^InvalidEnvironmentVariableNames: Keys \[1BAD, with space\] from the EnvFrom configmap shop\/cfg were skipped/);
    const o2 = toObj(await resolveEnv(pod({}), { name: 'c', envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'P_' }] }, d));
    assert.equal(o2.P_1BAD, 'x');
  });

  it('other source errors become EnvErrors', async () => {
    const d = deps({ getConfigMap: async () => { throw new Error('connection refused'); } });
    await assert.rejects(
      resolveEnv(pod({}), { name: 'c', envFrom: [{ configMapRef: { name: 'cfg', optional: true } }] }, d),
      (e: unknown) => e instanceof EnvError && /connection refused/.test(e.message),
    );
  });
});

describe('downward API helpers', () => {
  it('formats label maps sorted with Go quoting', () => {
    assert.equal(formatMap({ b: 'two\n"x"', a: 'one' }), 'a="one"\nb="two\\n\\"x\\""');
    assert.equal(extractFieldPathAsString(pod({}), 'metadata.annotations'), 'a.b/c="x\\"y"');
  });

  it('computes exact quantity ceilings', () => {
    assert.equal(quantityCeil('0.1', 3), 100n);
    assert.equal(quantityCeil('1.1', 3), 1100n);
    assert.equal(quantityCeil('1.5Gi', 0), 1610612736n);
    assert.equal(quantityCeil('100m', 0), 1n);
    assert.equal(quantityCeil('1e3', 0), 1000n);
    assert.equal(quantityCeil('1n', 3), 1n);
    assert.equal(quantityCeil(2, 3), 2000n);
  });
});
