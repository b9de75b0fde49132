import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterZone, DEFAULT_TTL, ZoneCache, reverseName } from './records.ts';
import { fixture, service, slice } from './testing.ts';
import { Class, Rcode, Type, type SrvData } from './wire.ts';

const zone = (): ClusterZone => { const f = fixture(); return ClusterZone.build(f.services, f.slices, { serial: 1 }); };
const ask = (z: ClusterZone, name: string, type: number) => z.answer({ name, type, class: Class.IN });
const datas = (rs: { data: unknown }[] | undefined) => (rs ?? []).map((r) => r.data);

describe('records', () => {
  it('answers a ClusterIP service with its ClusterIP, TTL 5 (CoreDNS default)', () => {
    const a = ask(zone(), 'web.default.svc.cluster.local', Type.A)!;
    assert.equal(a.rcode, Rcode.NOERROR);
    assert.equal(a.aa, true);
    assert.deepEqual(datas(a.answers), ['10.43.0.10']);
    assert.equal(a.answers[0]!.ttl, DEFAULT_TTL);
    assert.equal(DEFAULT_TTL, 5);
    // Case as asked.
    assert.equal(ask(zone(), 'WEB.default.svc.cluster.local.', Type.A)!.answers[0]!.name, 'WEB.default.svc.cluster.local.');
  });

  it('answers NODATA (NOERROR + SOA) for an existing name without the type', () => {
    const a = ask(zone(), 'web.default.svc.cluster.local', Type.AAAA)!;
    assert.equal(a.rcode, Rcode.NOERROR);
    assert.deepEqual(a.answers, []);
    assert.equal(a.authorities[0]!.type, Type.SOA);
    assert.deepEqual(a.authorities[0]!.data, { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 });
    // Empty non-terminals exist too.
    for (const n of ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', '_tcp.web.default.svc.cluster.local', 'pod.cluster.local']) {
      assert.equal(ask(zone(), n, Type.A)!.rcode, Rcode.NOERROR, n);
    }
  });

  it('answers NXDOMAIN with the SOA for names that do not exist', () => {
    for (const n of ['nope.default.svc.cluster.local', 'web.nope.svc.cluster.local', 'x.cluster.local', 'foo.web.default.svc.cluster.local', '_pg._udp.db.default.svc.cluster.local']) {
      const a = ask(zone(), n, Type.A)!;
      assert.equal(a.rcode, Rcode.NXDOMAIN, n);
      assert.equal(a.authorities[0]!.type, Type.SOA);
    }
    // A namespace known to exist but without services: NODATA.
    const z = ClusterZone.build([], [], { namespaces: ['empty'] });
    assert.equal(ask(z, 'empty.svc.cluster.local', Type.A)!.rcode, Rcode.NOERROR);
  });

  it('answers dual-stack services with A and AAAA', () => {
    assert.deepEqual(datas(ask(zone(), 'dual.other.svc.cluster.local', Type.A)!.answers), ['10.43.0.20']);
    assert.deepEqual(datas(ask(zone(), 'dual.other.svc.cluster.local', Type.AAAA)!.answers), ['fd00:43::20']);
  });

  it('answers headless services with their ready endpoints', () => {
    assert.deepEqual(datas(ask(zone(), 'db.default.svc.cluster.local', Type.A)!.answers), ['10.42.0.7', '10.42.0.8']);
    assert.deepEqual(datas(ask(zone(), 'db-0.db.default.svc.cluster.local', Type.A)!.answers), ['10.42.0.7']);
    assert.deepEqual(datas(ask(zone(), '10-42-0-8.db.default.svc.cluster.local', Type.A)!.answers), ['10.42.0.8']);
    assert.equal(ask(zone(), '10-42-0-9.db.default.svc.cluster.local', Type.A)!.rcode, Rcode.NXDOMAIN);
    // A headless service with no ready endpoints exists, with no addresses.
    const z = ClusterZone.build([service('default', 'lonely', { clusterIP: 'None' })], []);
    const a = ask(z, 'lonely.default.svc.cluster.local', Type.A)!;
    assert.equal(a.rcode, Rcode.NOERROR);
    assert.deepEqual(a.answers, []);
  });

  it('answers SRV for named ports: the service for ClusterIP, each endpoint for headless', () => {
    const web = ask(zone(), '_http._tcp.web.default.svc.cluster.local', Type.SRV)!;
    assert.deepEqual(datas(web.answers), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    assert.deepEqual(datas(web.additionals), ['10.43.0.10']);
    const dual = ask(zone(), '_dns._udp.dual.other.svc.cluster.local', Type.SRV)!;
    assert.equal((dual.answers[0]!.data as SrvData).port, 53);
    assert.deepEqual(datas(dual.additionals), ['10.43.0.20', 'fd00:43::20']);
    const db = ask(zone(), '_pg._tcp.db.default.svc.cluster.local', Type.SRV)!;
    assert.deepEqual(datas(db.answers), [
      { priority: 0, weight: 50, port: 5432, target: 'db-0.db.default.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5432, target: '10-42-0-8.db.default.svc.cluster.local' },
    ]);
    assert.deepEqual(datas(db.additionals), ['10.42.0.7', '10.42.0.8']);
    // SRV on the service name lists every port, named or not.
    assert.deepEqual(datas(ask(zone(), 'web.default.svc.cluster.local', Type.SRV)!.answers).map((d) => (d as SrvData).port), [80, 9000]);
  });

  it('answers ExternalName services with a CNAME, whatever the type', () => {
    for (const t of [Type.A, Type.AAAA, Type.CNAME]) {
      const a = ask(zone(), 'ext.default.svc.cluster.local', t)!;
      assert.deepEqual(a.answers.map((r) => [r.type, r.data]), [[Type.CNAME, 'example.com']]);
    }
  });

  it('answers PTR for ClusterIPs and endpoint IPs, and leaves other reverse names to upstream', () => {
    assert.equal(reverseName('10.43.0.10'), '10.0.43.10.in-addr.arpa');
    assert.deepEqual(datas(ask(zone(), '10.0.43.10.in-addr.arpa', Type.PTR)!.answers), ['web.default.svc.cluster.local']);
    assert.deepEqual(datas(ask(zone(), '7.0.42.10.in-addr.arpa', Type.PTR)!.answers), ['db-0.db.default.svc.cluster.local']);
    assert.deepEqual(datas(ask(zone(), '5.0.42.10.in-addr.arpa', Type.PTR)!.answers), ['10-42-0-5.web.default.svc.cluster.local']);
    assert.deepEqual(datas(ask(zone(), reverseName('fd00:43::20')!, Type.PTR)!.answers), ['dual.other.svc.cluster.local']);
    assert.equal(ask(zone(), '1.1.168.192.in-addr.arpa', Type.PTR), undefined);
    assert.equal(ask(zone(), '9.0.42.10.in-addr.arpa', Type.PTR), undefined); // not ready
  });

  it('answers pod A records from the name (pods insecure)', () => {
    assert.deepEqual(datas(ask(zone(), '10-42-1-9.default.pod.cluster.local', Type.A)!.answers), ['10.42.1.9']);
    assert.deepEqual(datas(ask(zone(), 'fd00--9.default.pod.cluster.local', Type.AAAA)!.answers), ['fd00::9']);
    assert.equal(ask(zone(), '10-42-1-9.default.pod.cluster.local', Type.AAAA)!.rcode, Rcode.NOERROR);
    assert.equal(ask(zone(), 'not-an-ip.default.pod.cluster.local', Type.A)!.rcode, Rcode.NXDOMAIN);
  });

  it('answers the zone apex and dns-version, and nothing outside the domain', () => {
    assert.equal(ask(zone(), 'cluster.local', Type.SOA)!.answers[0]!.type, Type.SOA);
    assert.deepEqual(datas(ask(zone(), 'cluster.local', Type.NS)!.answers), ['ns.dns.cluster.local']);
    assert.deepEqual(datas(ask(zone(), 'dns-version.cluster.local', Type.TXT)!.answers), [['1.1.0']]);
    assert.equal(ask(zone(), 'example.com', Type.A), undefined);
    assert.equal(ask(zone(), 'notcluster.local', Type.A), undefined);
  });
  it('rebuilds with a ZoneCache give the same answers, following changed objects only', () => {
    const f = fixture();
    const cache = new ZoneCache();
    const fresh = ClusterZone.build(f.services, f.slices, { serial: 1 });
    const first = ClusterZone.build(f.services, f.slices, { serial: 1, cache });
    const again = ClusterZone.build(f.services, f.slices, { serial: 1, cache });
    for (const [name, type] of [['web.default.svc.cluster.local', Type.A], ['db.default.svc.cluster.local', Type.A], ['_pg._tcp.db.default.svc.cluster.local', Type.SRV],
      [reverseName('10.42.0.7')!, Type.PTR], ['ext.default.svc.cluster.local', Type.A], ['nope.default.svc.cluster.local', Type.A]] as const) {
      assert.deepEqual(ask(first, name, type), ask(fresh, name, type), name);
      assert.deepEqual(ask(again, name, type), ask(fresh, name, type), name);
    }
    // A changed Service (a new object) and a changed slice (a new object) are recomputed.
    const services = f.services.map((s) => (s.metadata.name === 'web' ? service('default', 'web', { clusterIP: '10.43.0.11', clusterIPs: ['10.43.0.11'] }) : s));
    const slices = f.slices.map((s) => (s.metadata.name === 'db-abc' ? slice('default', 'db', 'db-abc', [{ addresses: ['10.42.0.70'], conditions: { ready: true } }]) : s));
    const changed = ClusterZone.build(services, slices, { serial: 1, cache });
    assert.deepEqual(datas(ask(changed, 'web.default.svc.cluster.local', Type.A)!.answers), ['10.43.0.11']);
    assert.deepEqual(datas(ask(changed, 'db.default.svc.cluster.local', Type.A)!.answers), ['10.42.0.70']);
    assert.equal(ask(changed, reverseName('10.43.0.10')!, Type.PTR), undefined);
    // A slice gone: its service is recomputed too.
    const gone = ClusterZone.build(services, slices.filter((s) => s.metadata.name !== 'db-abc'), { serial: 1, cache });
    assert.deepEqual(ask(gone, 'db.default.svc.cluster.local', Type.A)!.answers, []);
  });
});
