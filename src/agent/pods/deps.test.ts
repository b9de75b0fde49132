import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { parseResolvConf, podDns } from './deps.ts';

const host = parseResolvConf('# comment\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example lab.example\noptions ndots:2 edns0\n');

test('resolv.conf parsing', () => {
  assert.deepEqual(host, { servers: ['10.0.0.2', '10.0.0.3'], searches: ['corp.example', 'lab.example'], options: ['ndots:2', 'edns0'] });
});

test('dnsPolicy None takes only dnsConfig; dnsConfig options override by name', () => {
  const p = (spec: Record<string, unknown>): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
  assert.deepEqual(podDns(p({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.b'], options: [{ name: 'ndots', value: '5' }] } }), host),
    { servers: ['1.1.1.1'], searches: ['a.b'], options: ['ndots:5'] });
  assert.deepEqual(podDns(p({ dnsConfig: { options: [{ name: 'ndots', value: '1' }, { name: 'rotate' }] } }), host).options, ['ndots:1', 'edns0', 'rotate']);
  assert.deepEqual(podDns(p({}), host), host);
});
