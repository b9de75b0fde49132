import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { strategyFor } from './index.ts';

const services = strategyFor('', 'Service');

function service(spec: Record<string, unknown>, name = 'web'): KObject {
  const s: KObject = { metadata: { name, namespace: 'default' }, spec };
  services.defaults!(s);
  return s;
}

const errors = (s: KObject): string[] => services.validate!(s).map(formatFieldError);

test('defaults: ClusterIP, session affinity, TCP, targetPort = port, traffic policies', () => {
  const spec = service({ selector: { app: 'web' }, ports: [{ port: 80 }] }).spec as Record<string, any>;
  assert.equal(spec.type, 'ClusterIP');
  assert.equal(spec.sessionAffinity, 'None');
  assert.deepEqual(spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  assert.equal(spec.internalTrafficPolicy, 'Cluster');
  assert.equal(spec.externalTrafficPolicy, undefined);
  assert.deepEqual(spec.ipFamilies, ['IPv4']);
  assert.equal(spec.ipFamilyPolicy, 'SingleStack');
  const np = service({ type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] }).spec as Record<string, any>;
  assert.equal(np.externalTrafficPolicy, 'Cluster');
  assert.equal(np.ports[0].targetPort, 'http');
});

test('Service names are DNS-1035 labels', () => {
  assert.deepEqual(errors(service({ ports: [{ port: 80 }] }, '1web')), [
    "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  ]);
});

test('ports: required unless headless or ExternalName, names required and unique when several', () => {
  assert.deepEqual(errors(service({})), ['spec.ports: Required value']);
  assert.deepEqual(errors(service({ clusterIP: 'None' })), []);
  assert.deepEqual(errors(service({ type: 'ExternalName', externalName: 'db.example.com' })), []);
  assert.deepEqual(errors(service({ ports: [{ port: 80 }, { port: 443 }] })), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
  assert.deepEqual(errors(service({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] })), ['spec.ports[1].name: Duplicate value: "a"']);
  assert.deepEqual(errors(service({ ports: [{ port: 0 }] })), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
  ]);
  assert.deepEqual(errors(service({ ports: [{ port: 70000, protocol: 'HTTP' }] })), [
    'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
});

test('type enum and node port rules', () => {
  assert.deepEqual(errors(service({ type: 'Magic', ports: [{ port: 80 }] })), ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']);
  assert.deepEqual(errors(service({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })), []);
  assert.deepEqual(errors(service({ type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })), [
    'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
  ]);
  assert.deepEqual(errors(service({ ports: [{ port: 80, nodePort: 30080 }] })), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
});

test('update keeps the allocated cluster IP and node port; changing the IP is refused', () => {
  const old = service({ type: 'NodePort', clusterIP: '10.43.0.10', ports: [{ port: 80, nodePort: 30080 }] });
  const next = service({ type: 'NodePort', ports: [{ port: 80 }] });
  services.prepareForUpdate!(next, old);
  assert.equal((next.spec as any).clusterIP, '10.43.0.10');
  assert.equal((next.spec as any).ports[0].nodePort, 30080);
  assert.deepEqual(services.validateUpdate!(next, old), []);
  const moved = service({ clusterIP: '10.43.0.11', ports: [{ port: 80 }] });
  assert.deepEqual(services.validateUpdate!(moved, old).map(formatFieldError), ['spec.clusterIPs[0]: Invalid value: "10.43.0.11": may not change once set']);
});

test('table cells', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const svc = service({ type: 'NodePort', clusterIP: '10.43.0.10', selector: { app: 'web', tier: 'fe' }, ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP' }] });
  svc.metadata.creationTimestamp = '2024-05-01T11:59:00Z';
  assert.deepEqual(services.table!.cells(svc, now), ['NodePort', '10.43.0.10', '<none>', '80:30080/TCP,53/UDP', '60s', 'app=web,tier=fe']);
  const lb = service({ type: 'LoadBalancer', ports: [{ port: 80 }] });
  assert.equal(services.table!.cells(lb, now)[2], '<pending>');
  lb.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  assert.equal(services.table!.cells(lb, now)[2], '1.2.3.4');
  assert.equal(services.table!.cells(service({ type: 'ExternalName', externalName: 'db.example.com' }), now)[2], 'db.example.com');
});
