// Thousands of malformed requests through the front door: bad paths, methods, headers,
// bodies, patch documents, query strings, huge and deeply nested JSON. Every answer must
// be a 4xx Kubernetes Status (never a 5xx, never a hang), the server must stay up and its
// memory bounded, and nothing half-written may be left behind. The generator is seeded,
// so a failure names the request and replays the same way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, type TestServer } from '../helpers/cluster.ts';

let s: TestServer;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

interface Case { method: string; path: string; body?: string | Buffer; contentType?: string; headers?: Record<string, string> }

function generate(rand: () => number, n: number): Case[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const junk = (len: number) => Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
  const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);
  const paths = [
    '/api/v1/namespaces/default/configmaps', '/api/v1/namespaces/default/configmaps/fz', '/api/v1/namespaces/default/pods',
    '/api/v1/namespaces/default/pods/fz', '/apis/apps/v1/namespaces/default/deployments', '/apis/apps/v1/namespaces/default/deployments/fz/scale',
    '/api/v1/nodes/fz/status', '/api/v1/namespaces/fz', '/apis/batch/v1/namespaces/default/jobs', '/api/v1/namespaces/default/services',
    '/api/v1/namespaces/default/pods/fz/log', '/api/v1/namespaces/default/serviceaccounts/default/token',
  ];
  const badPaths = [
    '/api/v1/namespaces/../../etc/passwd', '/api/v1/namespaces/default/pods/..%2f..%2fetc', '/api/v1/namespaces/%00/pods', '/apis/%zz/v1',
    `/api/v1/namespaces/${'a'.repeat(5000)}/pods`, '/api/v1/namespaces/default/pods/x/y/z/w', '/apis//v1//pods', '/api/v1/namespaces/default/🚀',
    '/api/v9/pods', '/apis/apps/v1/watch/namespaces/default/deployments/x/y', '/%', '/api/v1/namespaces/default/pods/%E0%A4%A',
  ];
  const queries = [
    'labelSelector=%3D%3D%3D', 'labelSelector=a+in+(b', 'fieldSelector=spec.nodeName%3D%3Dx%2Cfoo', 'fieldSelector=metadata.nothing%3Dx',
    'limit=-1', 'limit=abc', 'continue=not-a-token', 'resourceVersion=abc', 'resourceVersion=99999999999999', 'resourceVersionMatch=Sometimes',
    'timeoutSeconds=xyz', 'watch=maybe', 'dryRun=Maybe', 'fieldManager=' + 'x'.repeat(300), 'fieldValidation=Loose', 'propagationPolicy=Sideways',
    'gracePeriodSeconds=-5', 'container=..%2F..%2Fetc%2Fpasswd', 'container=a%0d%0aX-Injected:%201', 'tailLines=-3', 'sinceSeconds=0', 'follow=banana',
    'command=sh&stdin=maybe', '%zz=1', 'a=' + '%'.repeat(10),
  ];
  const contentTypes = ['application/json', 'application/yaml', 'application/json-patch+json', 'application/merge-patch+json',
    'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', 'application/json; charset=utf-16', ''];
  const bodies = (): string | Buffer => pick<() => string | Buffer>([
    () => junk(1 + Math.floor(rand() * 400)),
    () => '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fz"},"data":{"a":',
    () => nested(20_000, '[', ']'),
    () => nested(20_000, '{"a":', '}'),
    () => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fz"},"data":${nested(5_000, '{"a":', '}', '"x"')}}`,
    () => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fz', labels: { ['x'.repeat(400)]: 'y' } }, data: { a: 1 } }),
    () => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fz' }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 'eighty' }] }] } }),
    () => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fz' }, spec: { containers: null } }),
    () => JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fz' }, spec: { replicas: -4, selector: { matchLabels: 7 }, template: [] } }),
    () => JSON.stringify([{ op: 'move', from: '/nope', path: '/x' }, { op: 'test', path: '/metadata/name', value: 'zz' }]),
    () => JSON.stringify([{ op: 'add', path: '/metadata/labels/~2', value: 1 }, { op: 'explode' }]),
    () => JSON.stringify({ metadata: { name: null, resourceVersion: 'xyz', uid: 5 }, spec: null, $patch: 'delete' }),
    () => JSON.stringify({ metadata: { $setElementOrder: 1, finalizers: { $retainKeys: true } } }),
    () => 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fz\n  bad: [',
    () => '&a [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
    () => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fz' }, data: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, 'v'])) }),
    () => JSON.stringify({ kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec: { expirationSeconds: -1, audiences: [7] } }),
    () => JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'fz' }, target: { kind: 'Node', name: '' } }),
    () => '\u0000\u0001{}',
    () => '',
  ])();
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    const path = (r < 0.2 ? pick(badPaths) : pick(paths)) + (rand() < 0.6 ? `?${pick(queries)}${rand() < 0.3 ? `&${pick(queries)}` : ''}` : '');
    const method = pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'POST', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'BREW']);
    const withBody = method !== 'GET' && method !== 'HEAD';
    const headers: Record<string, string> = {};
    if (rand() < 0.1) headers.Accept = pick(['application/json;as=Table;v=v1;g=meta.k8s.io', 'application/vnd.kubernetes.protobuf', 'text/html', '*/*;q=abc', 'application/json;as=Nope;g=x']);
    if (rand() < 0.05) headers['X-Forwarded-For'] = '1.2.3.4, <script>';
    out.push({ method, path, ...(withBody ? { body: bodies(), contentType: pick(contentTypes) } : {}), headers });
  }
  return out;
}

test('3,000 malformed requests: only 4xx Statuses, the server stays up, memory stays bounded', async () => {
  const rand = prng(20261123);
  const cases = generate(rand, 3_000);
  const pid = s.process.pid!;
  const rssBefore = rssOf(pid);
  const failures: string[] = [];
  let next = 0;
  const counts = new Map<number, number>();
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      let r;
      try {
        r = await s.request(c.method, c.path, { rawBody: c.body, contentType: c.contentType, headers: c.headers });
      } catch (err) {
        failures.push(`#${i} ${c.method} ${c.path.slice(0, 120)}: ${(err as Error).message}`);
        continue;
      }
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      const isStatus = r.json?.kind === 'Status' || r.status < 400;
      if (r.status >= 500 || (c.method !== 'HEAD' && !isStatus)) {
        failures.push(`#${i} ${c.method} ${c.path.slice(0, 120)} [${c.contentType}] → ${r.status} ${r.text.slice(0, 200)}`);
      }
      if (/X-Injected/i.test(Object.keys(r.headers).join(' '))) failures.push(`#${i}: header injected`);
    }
  }));
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers`);
  assert.ok([...counts.keys()].some((c) => c >= 400 && c < 500), 'most answers are 4xx');
  // Still alive, still serving.
  assert.equal((await s.request('GET', '/readyz')).status, 200);
  assert.equal((await s.request('GET', '/api/v1/namespaces/default/configmaps')).status, 200);
  const grown = rssOf(pid) - rssBefore;
  assert.ok(grown < 300 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MiB`);
});

test('log and exec parameters: traversal and header injection are refused', async () => {
  await s.kubectlOk(['run', 'fz-target', '--image=busybox', '--restart=Never']);
  for (const q of ['container=..%2F..%2Fetc%2Fpasswd', 'container=c%0d%0aX-Injected:%201', 'container=fz-target&tailLines=-1', 'container=fz-target&sinceTime=yesterday', 'container=fz-target&limitBytes=-9']) {
    const r = await s.request('GET', `/api/v1/namespaces/default/pods/fz-target/log?${q}`);
    // 400 for a container the pod does not have, 422 for invalid PodLogOptions, as Kubernetes answers.
    assert.ok(r.status === 400 || r.status === 422, `${q}: ${r.status} ${r.text}`);
    if (q.startsWith('container=..') || q.includes('X-Injected')) assert.match(r.json.message, /container .* is not valid for pod fz-target/s);
    assert.equal(r.json?.kind, 'Status');
    assert.ok(!('x-injected' in r.headers));
  }
  const exec = await s.request('POST', '/api/v1/namespaces/default/pods/fz-target/exec?command=sh&container=..%2F..%2Fbin');
  assert.ok(exec.status >= 400 && exec.status < 500, `${exec.status} ${exec.text}`);
});
