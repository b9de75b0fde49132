import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel } from './model.ts';
import { ep, service, slice } from './testing.ts';

const opts = { nodeName: 'n1', clusterDns: '10.43.0.10' };

describe('proxy model', () => {
  it('maps each Service port to its slices\' port by name and protocol, endpoints sorted by IP', () => {
    const m = buildModel(
      [service('default', 'web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] })],
      [
        slice('default', 'web', 'web-a', [ep('10.42.0.9'), ep('10.42.0.10')], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
        slice('default', 'web', 'web-b', [ep('10.42.0.3'), ep('10.42.0.9')], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
        slice('other', 'web', 'web-x', [ep('10.42.9.9')], [{ name: 'http', port: 8080 }]),
      ],
      opts,
    );
    assert.deepEqual(m.map((p) => p.key), ['default/web/tcp/http', 'default/web/udp/dns']);
    assert.deepEqual(m[0]!.endpoints, [{ ip: '10.42.0.3', port: 8080 }, { ip: '10.42.0.9', port: 8080 }, { ip: '10.42.0.10', port: 8080 }]);
    assert.deepEqual(m[1]!.endpoints, [{ ip: '10.42.0.9', port: 5353 }, { ip: '10.42.0.10', port: 5353 }]);
    assert.equal(m[0]!.nodePort, 0);
    assert.equal(m[0]!.affinitySeconds, 0);
  });

  it('uses ready endpoints, and serving terminating ones only when none is ready', () => {
    const svc = service('default', 'web', { clusterIP: '10.43.0.20', ports: [{ port: 80 }] });
    const ports = [{ port: 8080 }];
    const mixed = buildModel([svc], [slice('default', 'web', 's', [
      ep('10.42.0.1'),
      ep('10.42.0.2', { conditions: { ready: false } }),
      ep('10.42.0.3', { conditions: { ready: false, serving: true, terminating: true } }),
      ep('10.42.0.4', { conditions: {} }), // unset means ready
    ], ports)], opts);
    assert.deepEqual(mixed[0]!.endpoints.map((e) => e.ip), ['10.42.0.1', '10.42.0.4']);
    const terminating = buildModel([svc], [slice('default', 'web', 's', [
      ep('10.42.0.2', { conditions: { ready: false } }),
      ep('10.42.0.3', { conditions: { ready: false, serving: true, terminating: true } }),
      ep('10.42.0.5', { conditions: { ready: false, serving: false, terminating: true } }),
    ], ports)], opts);
    assert.deepEqual(terminating[0]!.endpoints.map((e) => e.ip), ['10.42.0.3']);
  });

  it('skips ExternalName, headless, IPv6 and the cluster DNS Service', () => {
    const m = buildModel([
      service('default', 'ext', { type: 'ExternalName', externalName: 'example.com' }),
      service('default', 'headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      service('default', 'v6', { clusterIP: 'fd00::1', ports: [{ port: 80 }] }),
      service('kube-system', 'kube-dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      service('default', 'pending', { ports: [{ port: 80 }] }),
    ], [], opts);
    assert.deepEqual(m, []);
  });

  it('NodePort, external and LoadBalancer IPs, traffic policy and affinity', () => {
    const m = buildModel([
      service('default', 'lb', {
        type: 'LoadBalancer', clusterIP: '10.43.0.30', externalIPs: ['203.0.113.5'], externalTrafficPolicy: 'Local',
        sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        ports: [{ port: 80, nodePort: 30080 }],
      }, { loadBalancer: { ingress: [{ ip: '192.0.2.2' }, { hostname: 'lb.example' }, { ip: '203.0.113.5' }] } }),
      service('default', 'np', { type: 'NodePort', clusterIP: '10.43.0.31', sessionAffinity: 'ClientIP', ports: [{ port: 80, nodePort: 30081 }] }),
      service('default', 'cip', { clusterIP: '10.43.0.32', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30082 }] }),
    ], [
      slice('default', 'lb', 's', [ep('10.42.0.1', { nodeName: 'n1' }), ep('10.42.1.1', { nodeName: 'n2' })], [{ port: 8080 }]),
    ], opts);
    const [cip, lb, np] = m;
    assert.deepEqual(lb!.externalIPs, ['192.0.2.2', '203.0.113.5']);
    assert.equal(lb!.nodePort, 30080);
    assert.equal(lb!.externalLocal, true);
    assert.equal(lb!.affinitySeconds, 60);
    assert.deepEqual(lb!.endpoints.map((e) => e.ip), ['10.42.0.1', '10.42.1.1']);
    assert.deepEqual(lb!.localEndpoints.map((e) => e.ip), ['10.42.0.1']);
    assert.equal(np!.affinitySeconds, 10800);
    assert.equal(np!.endpoints.length, 0);
    // A ClusterIP Service has no node port nor external policy, whatever its spec says.
    assert.equal(cip!.nodePort, 0);
    assert.equal(cip!.externalLocal, false);
  });
});
