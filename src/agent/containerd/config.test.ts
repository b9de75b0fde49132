import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderContainerdConfig, renderRegistryHosts, writeContainerdConfig } from './config.ts';
import { renderCniConfList, writeCniConfig } from './cni.ts';
import { agentNames } from './names.ts';
import { mountsUnder, planIptablesCleanup } from './killall.ts';

describe('agent names', () => {
  it('are unique per agent dir and fit the kernel limits', () => {
    const a = agentNames('/var/lib/skiff/agent');
    const b = agentNames('/var/lib/skiff2/agent');
    assert.notEqual(a.bridge, b.bridge);
    assert.notEqual(a.network, b.network);
    assert.ok(a.bridge.length <= 15);
    assert.equal(agentNames('/var/lib/skiff/agent/').hash, a.hash);
    assert.equal(a.socket, '/var/lib/skiff/agent/containerd/containerd.sock');
    assert.equal(a.runcRoot, '/var/lib/skiff/agent/containerd/state/runc');
  });
});

describe('containerd config', () => {
  const text = renderContainerdConfig({ agentDir: '/d/agent', pauseImage: 'skiff.local/pause:1' });
  it('has our own paths and the facts the CRI plugin needs here', () => {
    for (const want of [
      'version = 2',
      'root = "/d/agent/containerd/root"',
      'state = "/d/agent/containerd/state"',
      'address = "/d/agent/containerd/containerd.sock"',
      'restrict_oom_score_adj = true',
      'sandbox_image = "skiff.local/pause:1"',
      'snapshotter = "overlayfs"',
      'stream_server_address = "127.0.0.1"',
      'stream_server_port = "0"',
      'enable_selinux = false',
      'runtime_type = "io.containerd.runc.v2"',
      'Root = "/d/agent/containerd/state/runc"',
      'SystemdCgroup = false',
      'bin_dir = "/usr/lib/cni"',
      'conf_dir = "/d/agent/cni/net.d"',
      'config_path = "/d/agent/containerd/certs.d"',
    ]) assert.ok(text.includes(want), want);
    assert.match(text, /\[debug\]\n {2}address = ""/);
    assert.match(text, /\[metrics\]\n {2}address = ""/);
  });
  it('renders auth for registries and escapes strings', () => {
    const t = renderContainerdConfig({ agentDir: '/d/agent', pauseImage: 'p', registries: { configs: { 'r:5000': { auth: { username: 'u', password: 'a"b\\c' } } } } });
    assert.ok(t.includes('[plugins."io.containerd.grpc.v1.cri".registry.configs."r:5000".auth]\n  username = "u"\n  password = "a\\"b\\\\c"'));
  });
  it('renders hosts.toml per registry: http mirrors, TLS skip, default', () => {
    const h = renderRegistryHosts({
      mirrors: { 'docker.io': { endpoint: ['http://127.0.0.1:5000/'] }, '*': { endpoint: ['https://mirror.local'] } },
      configs: { 'mirror.local': { tls: { insecure_skip_verify: true } }, 'secure.reg': { tls: { ca_file: '/ca.pem' } } },
    });
    assert.equal(h.get('docker.io/hosts.toml'), 'server = "https://registry-1.docker.io"\n\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n');
    assert.equal(h.get('_default/hosts.toml'), '\n[host."https://mirror.local"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n');
    assert.equal(h.get('secure.reg/hosts.toml'), 'server = "https://secure.reg"\nca = "/ca.pem"\n');
  });
  it('an endpoint on the registry\'s own host is its server (plain HTTP); credentials alone give no hosts.toml', () => {
    const h = renderRegistryHosts({
      mirrors: { '127.0.0.1:5000': { endpoint: ['http://127.0.0.1:5000/'] }, 'reg.local:5000': { endpoint: ['http://m.local', 'http://reg.local:5000'] } },
      configs: { '127.0.0.1:6000': { auth: { username: 'u', password: 'p' } } },
    });
    assert.equal(h.get('127.0.0.1:5000/hosts.toml'), 'server = "http://127.0.0.1:5000"\n');
    assert.equal(h.get('reg.local:5000/hosts.toml'), 'server = "http://reg.local:5000"\n\n[host."http://m.local"]\n  capabilities = ["pull", "resolve"]\n');
    assert.equal(h.has('127.0.0.1:6000/hosts.toml'), false);
  });
  it('writes config.toml and replaces certs.d', () => {
    const dir = mkdtempSync('/tmp/skiff-cri-cfg-');
    try {
      writeContainerdConfig({ agentDir: dir, pauseImage: 'p', registries: { mirrors: { 'a.io': { endpoint: ['http://x:1'] } } } });
      assert.deepEqual(readdirSync(path.join(dir, 'containerd/certs.d')), ['a.io']);
      writeContainerdConfig({ agentDir: dir, pauseImage: 'p', registries: { mirrors: { 'b.io': { endpoint: ['http://x:1'] } } } });
      assert.deepEqual(readdirSync(path.join(dir, 'containerd/certs.d')), ['b.io']);
      assert.ok(readFileSync(path.join(dir, 'containerd/config.toml'), 'utf8').includes('version = 2'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CNI conflist', () => {
  it('bridge + host-local on the pod CIDR, then portmap; names of our own', () => {
    const c = renderCniConfList({ agentDir: '/d/agent', podCidr: '10.42.3.0/24' }) as { name: string; cniVersion: string; plugins: Record<string, any>[] };
    const n = agentNames('/d/agent');
    assert.equal(c.name, n.network);
    assert.equal(c.cniVersion, '1.0.0');
    assert.deepEqual(c.plugins.map((p) => p.type), ['bridge', 'portmap']);
    assert.equal(c.plugins[0]!.bridge, n.bridge);
    assert.deepEqual([c.plugins[0]!.isGateway, c.plugins[0]!.ipMasq, c.plugins[0]!.hairpinMode], [true, false, true]);
    assert.deepEqual(c.plugins[0]!.ipam, { type: 'host-local', ranges: [[{ subnet: '10.42.3.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/d/agent/cni/networks' });
    assert.deepEqual(c.plugins[1], { type: 'portmap', capabilities: { portMappings: true }, snat: true });
    assert.throws(() => renderCniConfList({ agentDir: '/d', podCidr: 'fd00::/64' }));
  });
  it('rewrites only on change, removes stray files and the old leases on a new CIDR', () => {
    const dir = mkdtempSync('/tmp/skiff-cri-cni-');
    try {
      const n = agentNames(dir);
      assert.equal(writeCniConfig({ agentDir: dir, podCidr: '10.1.0.0/24' }).changed, true);
      assert.equal(writeCniConfig({ agentDir: dir, podCidr: '10.1.0.0/24' }).changed, false);
      writeFileSync(path.join(n.cniConfDir, '05-other.conflist'), '{}');
      const leases = path.join(n.cniDataDir, n.network);
      writeCniConfig({ agentDir: dir, podCidr: '10.1.0.0/24' });
      assert.deepEqual(readdirSync(n.cniConfDir), ['10-skiff.conflist']);
      mkdirSync(leases, { recursive: true });
      writeFileSync(path.join(leases, '10.1.0.2'), 'x');
      assert.equal(writeCniConfig({ agentDir: dir, podCidr: '10.2.0.0/24' }).changed, true);
      assert.ok(readFileSync(path.join(n.cniConfDir, '10-skiff.conflist'), 'utf8').includes('10.2.0.0/24'));
      assert.equal(existsSync(leases), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('killall helpers', () => {
  it('plans the removal of our CNI rules and per-pod chains only', () => {
    const save = [
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      ':CNI-HOSTPORT-DNAT - [0:0]',
      ':CNI-aaa - [0:0]',
      ':CNI-bbb - [0:0]',
      ':CNI-DN-ccc - [0:0]',
      '-A POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: \\"skiff-11111111\\" id: \\"abc\\"" -j CNI-aaa',
      '-A POSTROUTING -s 10.2.0.5/32 -m comment --comment "name: \\"skiff-22222222\\" id: \\"def\\"" -j CNI-bbb',
      '-A CNI-aaa -d 10.1.0.0/24 -m comment --comment "name: \\"skiff-11111111\\" id: \\"abc\\"" -j ACCEPT',
      '-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"skiff-11111111\\" id: \\"abc\\"" -m multiport --dports 8080 -j CNI-DN-ccc',
      '-A CNI-DN-ccc -p tcp --dport 8080 -j DNAT --to-destination 10.1.0.5:80',
      'COMMIT',
    ].join('\n');
    const plan = planIptablesCleanup(save, 'skiff-11111111');
    assert.equal(plan.rules, 2);
    assert.equal(plan.chains, 2);
    assert.equal(plan.script, [
      '-D POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: \\"skiff-11111111\\" id: \\"abc\\"" -j CNI-aaa',
      '-D CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"skiff-11111111\\" id: \\"abc\\"" -m multiport --dports 8080 -j CNI-DN-ccc',
      '-F CNI-aaa', '-F CNI-DN-ccc', '-X CNI-aaa', '-X CNI-DN-ccc',
    ].join('\n'));
    assert.equal(planIptablesCleanup(save, 'skiff-33333333').script, '');
  });
  it('lists no mounts under a fresh dir', () => {
    assert.deepEqual(mountsUnder('/tmp/skiff-cri-does-not-exist'), []);
    assert.ok(mountsUnder('/').length > 0);
  });
});
