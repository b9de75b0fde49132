import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { classSelector, isOurs } from './class.ts';
import { normalizeHost, RouteTable } from './routes.ts';

type Path = { path?: string; pathType: string; svc: string; port?: number | string };

function backend(svc: string, port: number | string = 80) {
  return { service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

function ingress(name: string, rules: { host?: string; paths: Path[] }[], extra: { defaultSvc?: string; className?: string | null; created?: string; ns?: string; annotations?: Record<string, string> } = {}): KObject {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: { name, namespace: extra.ns ?? 'default', creationTimestamp: extra.created ?? '2026-01-01T00:00:00Z', annotations: extra.annotations },
    spec: {
      ...(extra.className === null ? {} : { ingressClassName: extra.className ?? 'skiff' }),
      ...(extra.defaultSvc ? { defaultBackend: backend(extra.defaultSvc) } : {}),
      rules: rules.map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        http: { paths: r.paths.map((p) => ({ ...(p.path === undefined ? {} : { path: p.path }), pathType: p.pathType, backend: backend(p.svc, p.port) })) },
      })),
    },
  };
}

const ourClass = (isDefault: boolean): KObject => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
  metadata: { name: 'skiff', annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} },
  spec: { controller: 'skiff.io/ingress' },
});

const table = (ings: KObject[], classes: KObject[] = [ourClass(true)]) => RouteTable.build(ings, classSelector(classes));
const svcOf = (t: RouteTable, host: string | undefined, path: string) => t.match(host, path)?.backend?.service;

test('the Ingress spec path examples (Exact, Prefix, element-wise, trailing slashes)', () => {
  // https://kubernetes.io/docs/concepts/services-networking/ingress/#examples
  const cases: [string, string, string, boolean][] = [
    ['Prefix', '/', '/anything/at/all', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/bar', false],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/', true],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb/', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbbxyz', false],
    ['Prefix', '/foo', '/foobar', false],
    ['ImplementationSpecific', '/foo', '/foo/bar', true],
    ['ImplementationSpecific', '/foo', '/foobar', false],
  ];
  for (const [pathType, path, request, matches] of cases) {
    const t = table([ingress('i', [{ paths: [{ path, pathType, svc: 'x' }] }])]);
    assert.equal(svcOf(t, 'h', request) === 'x', matches, `${pathType} ${path} vs ${request}`);
  }
});

test('longest path wins; at equal length Exact beats Prefix; queries are ignored', () => {
  const t = table([ingress('i', [{
    host: 'h.test',
    paths: [
      { path: '/', pathType: 'Prefix', svc: 'root' },
      { path: '/aaa', pathType: 'Prefix', svc: 'aaa' },
      { path: '/aaa/bbb', pathType: 'Prefix', svc: 'bbb-prefix' },
      { path: '/aaa/bbb', pathType: 'Exact', svc: 'bbb-exact' },
    ],
  }])]);
  assert.equal(svcOf(t, 'h.test', '/aaa/ccc'), 'aaa');
  assert.equal(svcOf(t, 'h.test', '/aaa/bbb'), 'bbb-exact');
  assert.equal(svcOf(t, 'h.test', '/aaa/bbb?x=1'), 'bbb-exact');
  assert.equal(svcOf(t, 'h.test', '/aaa/bbb/c'), 'bbb-prefix');
  assert.equal(svcOf(t, 'h.test', '/zzz'), 'root');
  assert.equal(svcOf(t, 'h.test', ''), 'root');
});

test('hosts: exact, one-label wildcards, host-less rules, then the default backend', () => {
  const t = table([ingress('i', [
    { host: 'foo.bar.com', paths: [{ path: '/api', pathType: 'Prefix', svc: 'exact' }] },
    { host: '*.bar.com', paths: [{ path: '/', pathType: 'Prefix', svc: 'wild' }] },
    { paths: [{ path: '/any', pathType: 'Prefix', svc: 'hostless' }] },
  ], { defaultSvc: 'fallback' })]);
  assert.equal(svcOf(t, 'foo.bar.com', '/api/x'), 'exact');
  assert.equal(svcOf(t, 'FOO.Bar.com:8080', '/api'), 'exact', 'case and port ignored');
  assert.equal(svcOf(t, 'foo.bar.com.', '/api'), 'exact', 'trailing dot ignored');
  assert.equal(svcOf(t, 'foo.bar.com', '/other'), 'wild', 'no path of the exact host: its wildcard');
  assert.equal(svcOf(t, 'baz.bar.com', '/'), 'wild');
  assert.equal(svcOf(t, 'bar.com', '/'), 'fallback', '*.bar.com needs one more label');
  assert.equal(svcOf(t, 'a.baz.bar.com', '/'), 'fallback', '*.bar.com matches one label only');
  assert.equal(svcOf(t, 'elsewhere.test', '/any/thing'), 'hostless');
  assert.equal(svcOf(t, undefined, '/any'), 'hostless');
  assert.equal(svcOf(t, 'elsewhere.test', '/nothing'), 'fallback');
  assert.equal(t.match('elsewhere.test', '/nothing')?.pathType, 'Default');
  assert.equal(t.size, 4);
});

test('no rule and no default backend: no match', () => {
  const t = table([ingress('i', [{ host: 'a.test', paths: [{ path: '/', pathType: 'Prefix', svc: 'a' }] }])]);
  assert.equal(t.match('b.test', '/'), undefined);
  assert.equal(t.match('a.test', '/x')?.backend?.service, 'a');
});

test('Ingresses merge per host; on a clash the older Ingress wins, for paths and default backends', () => {
  const t = table([
    ingress('newer', [{ host: 'h.test', paths: [{ path: '/x', pathType: 'Prefix', svc: 'new-x' }, { path: '/y', pathType: 'Prefix', svc: 'new-y' }] }], { created: '2026-02-01T00:00:00Z', defaultSvc: 'new-default' }),
    ingress('older', [{ host: 'h.test', paths: [{ path: '/x', pathType: 'Prefix', svc: 'old-x' }] }], { created: '2026-01-01T00:00:00Z', defaultSvc: 'old-default' }),
  ]);
  assert.equal(svcOf(t, 'h.test', '/x'), 'old-x');
  assert.equal(svcOf(t, 'h.test', '/y'), 'new-y');
  assert.equal(svcOf(t, 'other', '/'), 'old-default');
  assert.equal(t.match('h.test', '/x')?.ingress, 'default/older');
});

test('backends keep their namespace and port by number or name; resource backends have none', () => {
  const ing = ingress('i', [{ paths: [{ path: '/n', pathType: 'Prefix', svc: 'svc', port: 8080 }, { path: '/s', pathType: 'Prefix', svc: 'svc', port: 'http' }] }], { ns: 'team' });
  (ing.spec as any).rules[0].http.paths.push({ path: '/r', pathType: 'Prefix', backend: { resource: { apiGroup: 'x.io', kind: 'Bucket', name: 'b' } } });
  const t = table([ing]);
  assert.deepEqual(t.match('h', '/n')?.backend, { namespace: 'team', service: 'svc', port: { number: 8080 } });
  assert.deepEqual(t.match('h', '/s')?.backend, { namespace: 'team', service: 'svc', port: { name: 'http' } });
  const r = t.match('h', '/r');
  assert.ok(r && r.backend === undefined);
});

test('only Ingresses of our class: by name, by the default class, by the old annotation', () => {
  const named = ingress('named', [{ host: 'named', paths: [{ path: '/', pathType: 'Prefix', svc: 'a' }] }]);
  const classless = ingress('classless', [{ host: 'classless', paths: [{ path: '/', pathType: 'Prefix', svc: 'a' }] }], { className: null });
  const other = ingress('other', [{ host: 'other', paths: [{ path: '/', pathType: 'Prefix', svc: 'a' }] }], { className: 'nginx' });
  const annotated = ingress('annotated', [{ host: 'annotated', paths: [{ path: '/', pathType: 'Prefix', svc: 'a' }] }], { className: null, annotations: { 'kubernetes.io/ingress.class': 'skiff' } });
  const all = [named, classless, other, annotated];

  const asDefault = table(all, [ourClass(true)]);
  assert.deepEqual(['named', 'classless', 'other', 'annotated'].map((h) => Boolean(asDefault.match(h, '/'))), [true, true, false, true]);
  const notDefault = table(all, [ourClass(false)]);
  assert.deepEqual(['named', 'classless', 'other', 'annotated'].map((h) => Boolean(notDefault.match(h, '/'))), [true, false, false, true]);
  // Another IngressClass name pointing at our controller is ours too.
  const custom: KObject = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'mine' }, spec: { controller: 'skiff.io/ingress' } };
  assert.equal(isOurs(ingress('m', [], { className: 'mine' }), classSelector([custom])), true);
  assert.equal(isOurs(ingress('m', [], { className: 'mine' }), classSelector([])), false);
  // Being deleted: gone from the table.
  const going = ingress('going', [{ host: 'going', paths: [{ path: '/', pathType: 'Prefix', svc: 'a' }] }]);
  going.metadata.deletionTimestamp = '2026-01-02T00:00:00Z';
  assert.equal(table([going]).match('going', '/'), undefined);
});

test('normalizeHost', () => {
  assert.equal(normalizeHost('Example.COM:80'), 'example.com');
  assert.equal(normalizeHost('[::1]:8080'), '::1');
  assert.equal(normalizeHost('example.com.'), 'example.com');
  assert.equal(normalizeHost(''), '');
});
