// The controller as the agent starts it: real informers (over an in-process API) feeding
// the router, a real listener, a loopback backend. Informer events must reach the proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { NodeNetworkContext } from '../agent/network/types.ts';
import { agentNames } from '../agent/containerd/names.ts';
import { testBed } from '../controllers/testing.ts';
import { createLogger } from '../util/log.ts';
import { startIngressController } from './index.ts';
import { endpointSlice, service, simpleIngress } from './testing.ts';

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

function context(informers: NodeNetworkContext['informers'], client: NodeNetworkContext['client'], port: number, lines: string[]): NodeNetworkContext {
  return {
    client, informers, nodeName: 'n1', nodeIP: '127.0.0.1', podCidr: '10.42.0.0/24',
    cluster: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', clusterDns: '10.43.0.10', clusterDomain: 'cluster.local' },
    names: agentNames('/tmp/skiff-ingress-unit'), agentDir: '/tmp/skiff-ingress-unit', ingressHttpPort: port,
    log: createLogger({ level: 'info', write: (l) => lines.push(l) }),
  };
}

test('serves what the informers hold and follows their changes', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const backend = http.createServer((_req, res) => res.end('from-backend'));
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  t.after(() => { backend.close(); backend.closeAllConnections(); });
  const backendPort = (backend.address() as net.AddressInfo).port;

  const port = await freePort();
  const lines: string[] = [];
  const c = await startIngressController(context(tb.informers, tb.api, port, lines));
  t.after(() => c.stop());
  tb.informers.start();
  await tb.informers.waitForSync();

  assert.equal((await get(port, 'web.test')).status, 404);
  await tb.api.resource('', 'v1', 'services').create(service('web', [{ port: 80 }]));
  await tb.api.resource('networking.k8s.io', 'v1', 'ingresses').create(simpleIngress('web', [{ host: 'web.test', svc: 'web', port: 80 }]));
  await tb.until(async () => (await get(port, 'web.test')).status === 503, 5000, '503 before endpoints');
  await tb.api.resource('discovery.k8s.io', 'v1', 'endpointslices').create(endpointSlice('web', [{ port: backendPort }], [{ ip: '127.0.0.1' }]));
  await tb.until(async () => (await get(port, 'web.test')).body === 'from-backend', 5000, 'proxied once the slice exists');
  await tb.api.resource('networking.k8s.io', 'v1', 'ingresses').delete('default', 'web');
  await tb.until(async () => (await get(port, 'web.test')).status === 404, 5000, '404 once the Ingress is gone');
  assert.ok(lines.some((l) => l.includes('ingress controller serving')));
});

test('a taken port: a warning, and the agent goes on; port 0: off', async (t) => {
  const tb = await testBed();
  t.after(() => tb.close());
  const taken = net.createServer().listen(0, '0.0.0.0');
  await once(taken, 'listening');
  t.after(() => taken.close());
  const lines: string[] = [];
  const c = await startIngressController(context(tb.informers, tb.api, (taken.address() as net.AddressInfo).port, lines));
  await c.stop();
  assert.ok(lines.some((l) => l.includes('ingress controller not serving') && l.includes('EADDRINUSE')), lines.join('\n'));
  const off: string[] = [];
  await (await startIngressController(context(tb.informers, tb.api, 0, off))).stop();
  assert.ok(off.some((l) => l.includes('ingress controller off')));
});
