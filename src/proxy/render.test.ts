import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServicePort } from './model.ts';
import { renderService, SLOT_BLOCK, Slots, type Fragment } from './render.ts';
import { TableState } from './state.ts';

const opts = { table: 'skiff-svc-test', clusterCidr: '10.42.0.0/16' };
const T = 'ip skiff-svc-test';

function port(over: Partial<ServicePort> = {}): ServicePort {
  return {
    key: 'default/web/tcp/http', protocol: 'tcp', clusterIP: '10.43.0.20', port: 80, nodePort: 0, externalIPs: [],
    externalLocal: false, affinitySeconds: 0, endpoints: [{ ip: '10.42.0.5', port: 8080 }, { ip: '10.42.0.6', port: 8080 }],
    localEndpoints: [], ...over,
  };
}
const slots = new Slots();
/** One port rendered as its Service's only port (the Service is the port key's ns/name). */
function render(over: Partial<ServicePort> = {}): Fragment {
  const p = port(over);
  const s = slots.forService(p.key.split('/').slice(0, 2).join('/'));
  try { return renderService([p], opts, s.base); } finally { s.done(); }
}
const elems = (f: Fragment, set: string) => [...(f.elements.get(set) ?? [])];
const lines = (s: string | undefined) => (s ?? '').split('\n').filter(Boolean);

describe('proxy render', () => {
  it('a ClusterIP port: masquerade outside clients, then pick an endpoint at random', () => {
    const f = render();
    assert.deepEqual(f.chains.get('svc-default/web/tcp/http')!.rules, [
      'ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade',
      'meta l4proto tcp dnat to numgen random mod 2 offset 0 map @endpoints-tcp',
    ]);
    assert.deepEqual(elems(f, 'endpoints-tcp'), [['0', '10.42.0.5 . 8080'], ['1', '10.42.0.6 . 8080']]);
    assert.deepEqual(elems(f, 'service-ips'), [['10.43.0.20 . tcp . 80', 'goto svc-default/web/tcp/http']]);
    assert.deepEqual(elems(f, 'hairpin').map(([k]) => k), ['10.42.0.5 . 10.42.0.5', '10.42.0.6 . 10.42.0.6']);
    assert.deepEqual(elems(f, 'no-endpoint-services'), []);
    const one = render({ endpoints: [{ ip: '10.42.0.5', port: 8080 }] });
    assert.equal(one.chains.get('svc-default/web/tcp/http')!.rules[1], 'meta l4proto tcp dnat to 10.42.0.5:8080');
  });

  it('no endpoints: reject at the ClusterIP, external IPs and node port; no service chain', () => {
    const f = render({ endpoints: [], nodePort: 30080, externalIPs: ['192.0.2.9'] });
    assert.equal(f.chains.size, 0);
    assert.deepEqual(elems(f, 'no-endpoint-services'), [
      ['10.43.0.20 . tcp . 80', 'goto reject-chain'], ['192.0.2.9 . tcp . 80', 'goto reject-chain']]);
    assert.deepEqual(elems(f, 'no-endpoint-nodeports'), [['tcp . 30080', 'goto reject-chain']]);
    assert.deepEqual(elems(f, 'service-ips'), []);
  });

  it('external traffic: policy Cluster masquerades; policy Local keeps local endpoints or drops', () => {
    const cluster = render({ nodePort: 30080, externalIPs: ['192.0.2.9'] });
    assert.deepEqual(cluster.chains.get('ext-default/web/tcp/http')!.rules, ['jump mark-for-masquerade', 'goto svc-default/web/tcp/http']);
    assert.deepEqual(elems(cluster, 'service-nodeports'), [['tcp . 30080', 'goto ext-default/web/tcp/http']]);
    assert.equal(cluster.elements.get('service-ips')!.get('192.0.2.9 . tcp . 80'), 'goto ext-default/web/tcp/http');
    const local = render({ nodePort: 30080, externalLocal: true, localEndpoints: [{ ip: '10.42.0.6', port: 8080 }] });
    assert.deepEqual(local.chains.get('ext-default/web/tcp/http')!.rules, [
      'ip saddr 10.42.0.0/16 goto svc-default/web/tcp/http',
      'fib saddr type local jump mark-for-masquerade',
      'fib saddr type local goto svc-default/web/tcp/http',
      'meta l4proto tcp dnat to 10.42.0.6:8080',
    ]);
    const none = render({ nodePort: 30080, externalLocal: true });
    assert.equal(none.chains.get('ext-default/web/tcp/http')!.rules.at(-1), 'drop');
  });

  it('ClientIP affinity: a timeout set and a chain per endpoint, sticky lookups before the spread', () => {
    const f = render({ affinitySeconds: 60 });
    const a = 'aff-default/web/tcp/http__10.42.0.5/8080';
    assert.equal(f.sets.get(a)!.decl, 'type ipv4_addr ; flags dynamic,timeout ; timeout 60s ;');
    assert.deepEqual(f.chains.get('ep-default/web/tcp/http__10.42.0.5/8080')!.rules, [
      `update @${a} { ip saddr }`, 'meta l4proto tcp dnat to 10.42.0.5:8080']);
    assert.deepEqual(f.chains.get('svc-default/web/tcp/http')!.rules.slice(1), [
      `ip saddr @${a} goto ep-default/web/tcp/http__10.42.0.5/8080`,
      'ip saddr @aff-default/web/tcp/http__10.42.0.6/8080 goto ep-default/web/tcp/http__10.42.0.6/8080',
      'numgen random mod 2 vmap { 0 : goto ep-default/web/tcp/http__10.42.0.5/8080, 1 : goto ep-default/web/tcp/http__10.42.0.6/8080 }',
    ]);
  });
});

describe('proxy table state', () => {
  it('full replaces the table in one transaction, base chains first', () => {
    const script = lines(new TableState(opts).full(new Map([['default/web', render()]])));
    assert.deepEqual(script.slice(0, 3), [`add table ${T}`, `delete table ${T}`, `add table ${T}`]);
    const at = (l: string) => { const i = script.indexOf(l); assert.ok(i >= 0, `missing: ${l}`); return i; };
    assert.ok(at(`add chain ${T} nat-prerouting { type nat hook prerouting priority -100 ; policy accept ; }`)
      < at(`add chain ${T} svc-default/web/tcp/http`));
    assert.ok(at(`add chain ${T} svc-default/web/tcp/http`) < at(`add element ${T} service-ips { 10.43.0.20 . tcp . 80 : goto svc-default/web/tcp/http }`));
  });

  it('one endpoint replaced swaps map elements only; a count change rewrites one rule', () => {
    const st = new TableState(opts);
    st.full(new Map([['default/web', render()], ['default/other', render({ key: 'default/other/tcp/80', clusterIP: '10.43.0.21', endpoints: [{ ip: '10.42.1.1', port: 80 }] })]]));
    const next = render({ endpoints: [{ ip: '10.42.0.5', port: 8080 }, { ip: '10.42.0.7', port: 8080 }] });
    assert.deepEqual(lines(st.update(new Map([['default/web', next]]))), [
      `delete element ${T} hairpin { 10.42.0.6 . 10.42.0.6 }`,
      `delete element ${T} endpoints-tcp { 1 }`,
      `add element ${T} hairpin { 10.42.0.7 . 10.42.0.7 }`,
      `add element ${T} endpoints-tcp { 1 : 10.42.0.7 . 8080 }`,
    ]);
    const three = render({ endpoints: [{ ip: '10.42.0.5', port: 8080 }, { ip: '10.42.0.7', port: 8080 }, { ip: '10.42.0.8', port: 8080 }] });
    assert.deepEqual(lines(st.update(new Map([['default/web', three]]))), [
      `flush chain ${T} svc-default/web/tcp/http`,
      `add rule ${T} svc-default/web/tcp/http ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade`,
      `add rule ${T} svc-default/web/tcp/http meta l4proto tcp dnat to numgen random mod 3 offset 0 map @endpoints-tcp`,
      `add element ${T} hairpin { 10.42.0.8 . 10.42.0.8 }`,
      `add element ${T} endpoints-tcp { 2 : 10.42.0.8 . 8080 }`,
    ]);
    assert.equal(st.update(new Map([['default/web', three]])), '');
  });

  it('shared elements: a hairpin pair two Services use stays until both leave; a clashing key passes to the next claimant', () => {
    const st = new TableState(opts);
    const a = render({ nodePort: 30080 });
    const b = render({ key: 'default/b/tcp/80', clusterIP: '10.43.0.21', nodePort: 30080 });
    st.full(new Map([['default/a', a], ['default/b', b]]));
    const script = lines(st.update(new Map([['default/a', undefined]])));
    assert.ok(!script.some((l) => l.includes('hairpin')), script.join('\n'));
    assert.ok(script.includes(`delete element ${T} service-nodeports { tcp . 30080 }`));
    assert.ok(script.includes(`add element ${T} service-nodeports { tcp . 30080 : goto ext-default/b/tcp/80 }`));
    assert.ok(lines(st.update(new Map([['default/b', undefined]]))).includes(`delete element ${T} hairpin { 10.42.0.5 . 10.42.0.5, 10.42.0.6 . 10.42.0.6 }`));
  });

  it('Services keep their endpoint-map blocks; a freed block is reused', () => {
    const s = new Slots();
    const a = s.forService('ns/a');
    assert.equal(a.base('ns/a/tcp/80'), 0);
    assert.equal(a.base('ns/a/tcp/80/local'), SLOT_BLOCK);
    a.done();
    const b = s.forService('ns/b');
    assert.equal(b.base('ns/b/tcp/80'), 2 * SLOT_BLOCK);
    b.done();
    const again = s.forService('ns/a');
    assert.equal(again.base('ns/a/tcp/80'), 0); // the local block is no longer asked for: freed
    again.done();
    const c = s.forService('ns/c');
    assert.equal(c.base('ns/c/tcp/80'), SLOT_BLOCK);
    c.done();
  });

  it('a Service losing its endpoints moves to the reject map; its chains go last, flushed before deleted', () => {
    const st = new TableState(opts);
    st.full(new Map([['default/web', render({ nodePort: 30080, affinitySeconds: 60 })]]));
    const script = lines(st.update(new Map([['default/web', render({ nodePort: 30080, affinitySeconds: 60, endpoints: [] })]])));
    const at = (l: string) => { const i = script.indexOf(l); assert.ok(i >= 0, `missing: ${l}\n${script.join('\n')}`); return i; };
    const delElem = at(`delete element ${T} service-ips { 10.43.0.20 . tcp . 80 }`);
    at(`delete element ${T} service-nodeports { tcp . 30080 }`);
    at(`add element ${T} no-endpoint-services { 10.43.0.20 . tcp . 80 : goto reject-chain }`);
    const flushSvc = at(`flush chain ${T} svc-default/web/tcp/http`);
    const delEp = at(`delete chain ${T} ep-default/web/tcp/http__10.42.0.5/8080`);
    const delSvc = at(`delete chain ${T} svc-default/web/tcp/http`);
    const delExt = at(`delete chain ${T} ext-default/web/tcp/http`);
    const delSet = at(`delete set ${T} aff-default/web/tcp/http__10.42.0.5/8080`);
    assert.ok(delElem < flushSvc && flushSvc < delEp && flushSvc < delExt && delSvc < delSet);
  });

  it('a changed affinity timeout asks for a full sync', () => {
    const st = new TableState(opts);
    st.full(new Map([['default/web', render({ affinitySeconds: 60 })]]));
    assert.equal(st.update(new Map([['default/web', render({ affinitySeconds: 90 })]])), undefined);
  });
});
