import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentNames } from '../agent/containerd/names.ts';
import { runTool } from '../agent/containerd/process.ts';
import { cleanupNodeLocalDns, dnsInterfaceName, ensureDnsInterface, nodeUpstreams } from './node-local.ts';

test('the interface is named per agent and fits IFNAMSIZ', () => {
  const a = dnsInterfaceName(agentNames('/tmp/a/agent'));
  const b = dnsInterfaceName(agentNames('/tmp/b/agent'));
  assert.match(a, /^skdns[0-9a-f]{8}$/);
  assert.ok(a.length <= 15);
  assert.notEqual(a, b);
});

test('upstreams are the node\'s nameservers, never the cluster DNS address itself', () => {
  assert.deepEqual(nodeUpstreams('nameserver 10.0.0.2\nnameserver 10.43.0.10\nnameserver 127.0.0.53\n', '10.43.0.10'), ['10.0.0.2', '127.0.0.53']);
  assert.deepEqual(nodeUpstreams('nameserver 10.43.0.10\n', '10.43.0.10'), []);
  assert.deepEqual(nodeUpstreams('', '10.43.0.10'), []);
});

test('the interface is created, adopted on restart with a stale address replaced, and removed', { skip: process.getuid?.() !== 0 ? 'needs root' : undefined }, async () => {
  const names = { hash: (process.pid * 2654435761 >>> 0).toString(16).padStart(8, '0').slice(0, 8) };
  const ifname = dnsInterfaceName(names);
  const addrs = async () => {
    const { stdout } = await runTool('ip', ['-j', 'addr', 'show', 'dev', ifname]);
    return (JSON.parse(stdout) as { addr_info: { local: string; prefixlen: number; family: string }[] }[])[0]!.addr_info
      .filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  };
  try {
    await ensureDnsInterface(ifname, '198.18.77.10');
    assert.deepEqual(await addrs(), ['198.18.77.10/32']);
    await ensureDnsInterface(ifname, '198.18.77.10'); // an agent restart: adopted as is
    assert.deepEqual(await addrs(), ['198.18.77.10/32']);
    await ensureDnsInterface(ifname, '198.18.77.11'); // another --cluster-dns
    assert.deepEqual(await addrs(), ['198.18.77.11/32']);
    const route = await runTool('ip', ['route', 'get', '198.18.77.11']);
    assert.match(route.stdout, /^local 198\.18\.77\.11 /);
    assert.equal(await cleanupNodeLocalDns(names), true);
    assert.equal(await cleanupNodeLocalDns(names), false);
    await assert.rejects(runTool('ip', ['link', 'show', 'dev', ifname]));
  } finally {
    await runTool('ip', ['link', 'del', 'dev', ifname]).catch(() => {});
  }
});
