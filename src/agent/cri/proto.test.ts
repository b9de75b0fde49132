// Our proto parser + codec against protobufjs (what @grpc/proto-loader used): the same
// bytes on encode, the same JS objects on decode (proto-loader's options), for every message
// of api.proto with random contents, plus hand-written byte vectors and edge cases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { PROTO_PATH } from './client.ts';
import { decode, encode, parseProto, type EnumDef, type FieldDef, type MessageDef, type ScalarType } from './proto.ts';

const TO_OBJECT = { longs: String, enums: String, defaults: true, arrays: true, objects: true, oneofs: true };

const schema = parseProto(readFileSync(PROTO_PATH, 'utf8'));
const root = protobuf.loadSync(PROTO_PATH); // keepCase false: camelCase, as proto-loader loads it
const theirType = (name: string) => root.lookupType(name);

// protobufjs' serializer/deserializer exactly as proto-loader builds them
const theirEncode = (name: string, obj: object): Buffer => {
  const t = theirType(name);
  return Buffer.from(t.encode(t.fromObject(obj)).finish());
};
const theirDecode = (name: string, buf: Uint8Array): unknown => {
  const t = theirType(name);
  return t.toObject(t.decode(buf), TO_OBJECT);
};

// ---- random messages ----

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomScalar(type: ScalarType, rnd: () => number): unknown {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  switch (type) {
    case 'string':
      return pick(['', 'a', 'hello world', 'ünïcødé ✓ 日本', 'x'.repeat(200), '/var/log/pods/ns_name_uid']);
    case 'bytes':
      return Buffer.from(pick(['', 'hi\n', '\u0000\u00ff binary', 'y'.repeat(300)]), 'latin1');
    case 'bool':
      return rnd() < 0.5;
    case 'int32':
      return pick([0, 1, -1, 127, 128, 300, 2147483647, -2147483648, 53]);
    case 'uint32':
      return pick([0, 1, 127, 128, 16384, 4294967295]);
    case 'int64':
      return pick([0, 1, -1, 1000, 2 ** 40, '1763900000123456789', '-9223372036854775808', '9223372036854775807', '4294967296', '-5']);
    case 'uint64':
      return pick([0, 1, 2 ** 40, '18446744073709551615', '1763900000123456789', '4294967295', '4294967296']);
    default:
      throw new Error(`no generator for ${type}`);
  }
}

function randomValue(f: FieldDef, rnd: () => number, depth: number): unknown {
  if (f.type === 'message') return randomMessage(f.resolved as MessageDef, rnd, depth + 1);
  if (f.type === 'enum') {
    const names = [...(f.resolved as EnumDef).values.keys()];
    return rnd() < 0.2 ? (f.resolved as EnumDef).values.get(names[1] ?? names[0]!) : names[Math.floor(rnd() * names.length)];
  }
  return randomScalar(f.type as ScalarType, rnd);
}

function randomMessage(def: MessageDef, rnd: () => number, depth = 0): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const f of def.fields) {
    const r = rnd();
    if (r < 0.25 || (depth > 4 && f.type === 'message')) continue; // absent
    if (r < 0.3) {
      obj[f.name] = null;
      continue;
    }
    if (f.map) {
      const m: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) m[`key-${i}.example.com/${'k'.repeat(i * 40)}`] = randomScalar(f.map.valueType as ScalarType, rnd);
      obj[f.name] = m;
    } else if (f.repeated) {
      const n = Math.floor(rnd() * 4);
      obj[f.name] = Array.from({ length: n }, () => randomValue(f, rnd, depth));
    } else obj[f.name] = randomValue(f, rnd, depth);
  }
  return obj;
}

/** Buffers compare by content in deepEqual, but protobufjs may give Uint8Array: normalize. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

describe('proto codec vs protobufjs', () => {
  it('parses every message, enum and rpc of api.proto', () => {
    const messages = [...schema.types.values()].filter((t) => t.kind === 'message');
    const theirs: string[] = [];
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const o of ns.nestedArray) {
        if (o instanceof protobuf.Type) theirs.push(o.fullName.slice(1));
        if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) walk(o as protobuf.NamespaceBase);
      }
    };
    walk(root);
    assert.deepEqual(messages.map((m) => m.fullName).sort(), theirs.sort());
    for (const m of messages as MessageDef[]) {
      const t = theirType(m.fullName);
      assert.deepEqual(m.fields.map((f) => [f.name, f.number, f.repeated, !!f.map]).sort(),
        t.fieldsArray.map((f) => [f.name, f.id, f.repeated, f.map]).sort(), m.fullName);
    }
    const rt = schema.services.get('runtime.v1.RuntimeService')!;
    const theirRt = root.lookupService('runtime.v1.RuntimeService');
    assert.deepEqual([...rt.methods.keys()].sort(), theirRt.methodsArray.map((m) => m.name).sort());
    assert.equal(rt.methods.get('ListContainers')!.path, '/runtime.v1.RuntimeService/ListContainers');
    assert.equal(schema.services.get('runtime.v1.ImageService')!.methods.get('PullImage')!.responseType.fullName, 'runtime.v1.PullImageResponse');
    assert.equal(schema.message('SecurityProfile').fields[0]!.resolved!.fullName, 'runtime.v1.SecurityProfile.ProfileType');
  });

  it('random messages of every type: same bytes, same decoded objects, both ways', () => {
    const rnd = prng(42);
    let n = 0;
    for (const def of schema.types.values()) {
      if (def.kind !== 'message') continue;
      for (let i = 0; i < 25; i++) {
        const obj = randomMessage(def, rnd);
        const ours = encode(def, obj);
        const theirs = theirEncode(def.fullName, obj);
        assert.deepEqual(ours.toString('hex'), theirs.toString('hex'), `${def.fullName} ${JSON.stringify(obj)}`);
        assert.deepEqual(normalize(decode(def, theirs)), normalize(theirDecode(def.fullName, theirs)), def.fullName);
        n++;
      }
    }
    assert.ok(n > 2000);
  });

  it('decodes what protobufjs decodes for a full ContainerStatusResponse', () => {
    const obj = {
      status: {
        id: 'c1', metadata: { name: 'app', attempt: 3 }, state: 'CONTAINER_EXITED',
        createdAt: '1763900000123456789', startedAt: '1763900001000000000', finishedAt: '0', exitCode: -1,
        image: { image: 'busybox', annotations: { a: 'b' } }, imageRef: 'sha256:abc', reason: 'OOMKilled', message: 'é',
        labels: { 'io.kubernetes.pod.name': 'p' }, annotations: {},
        mounts: [{ containerPath: '/data', hostPath: '/var/x', readonly: true, propagation: 'PROPAGATION_BIDIRECTIONAL' }],
        logPath: '/var/log/x.log', resources: { linux: { cpuShares: 2, memoryLimitInBytes: '67108864', hugepageLimits: [{ pageSize: '2MB', limit: '18446744073709551615' }], unified: { 'memory.high': '1' } } },
      },
      info: { info: '{"pid":1}' },
    };
    const buf = theirEncode('runtime.v1.ContainerStatusResponse', obj);
    const ours = decode(schema.message('ContainerStatusResponse'), buf) as any;
    assert.deepEqual(normalize(ours), normalize(theirDecode('runtime.v1.ContainerStatusResponse', buf)));
    assert.equal(ours.status.exitCode, -1);
    assert.equal(ours.status.resources.linux.hugepageLimits[0].limit, '18446744073709551615');
    assert.equal(ours.status.resources.linux.cpuPeriod, '0');
    assert.equal(ours.status.resources.linux.cpusetCpus, '');
    assert.deepEqual(ours.status.mounts[0].selinuxRelabel, false);
    assert.equal(ours.status.metadata.attempt, 3);
  });

  it('defaults: empty message → every field with its proto3 default', () => {
    const c = decode(schema.message('Container'), Buffer.alloc(0));
    assert.deepEqual(c, { id: '', podSandboxId: '', metadata: null, image: null, imageRef: '', state: 'CONTAINER_CREATED', createdAt: '0', labels: {}, annotations: {} });
    const e = decode(schema.message('ExecSyncResponse'), Buffer.alloc(0));
    assert.ok(Buffer.isBuffer(e.stdout));
    assert.deepEqual([e.stdout.length, e.exitCode], [0, 0]);
    assert.deepEqual(decode(schema.message('SecurityProfile'), Buffer.alloc(0)), { profileType: 'RuntimeDefault', localhostRef: '' });
  });

  it('known byte vectors', () => {
    // PortMapping { protocol: UDP, container_port: 53, host_port: -1, host_ip: "" }
    assert.equal(encode(schema.message('PortMapping'), { protocol: 'UDP', containerPort: 53, hostPort: -1, hostIp: '' }).toString('hex'),
      '0801' + '1035' + '18ffffffffffffffffff01' + '2200');
    // enums by number too
    assert.equal(encode(schema.message('PortMapping'), { protocol: 2 }).toString('hex'), '0802');
    // unknown enum name: left unset (as protobufjs' fromObject does)
    assert.equal(encode(schema.message('PortMapping'), { protocol: 'QUIC' }).toString('hex'), '');
    // int64 from number, string, bigint; negative → 10 bytes
    const sc = schema.message('StopContainerRequest');
    assert.equal(encode(sc, { containerId: 'c', timeout: 300 }).toString('hex'), '0a0163' + '10ac02');
    assert.equal(encode(sc, { timeout: '300' }).toString('hex'), '10ac02');
    assert.equal(encode(sc, { timeout: 300n }).toString('hex'), '10ac02');
    assert.equal(encode(sc, { timeout: -1 }).toString('hex'), '10ffffffffffffffffff01');
    // packed repeated int32
    assert.equal(encode(schema.message('PortForwardRequest'), { podSandboxId: 's', port: [80, 8080] }).toString('hex'), '0a0173' + '1203' + '50' + '903f');
    // map entry: key and value both written
    assert.equal(encode(schema.message('ImageSpec'), { image: 'i', annotations: { k: '' } }).toString('hex'), '0a0169' + '1205' + '0a016b' + '1200');
    // a sub-message longer than 127 bytes (two-byte length prefix)
    const long = encode(schema.message('ImageFilter'), { image: { image: 'x'.repeat(200) } });
    assert.equal(long.subarray(0, 6).toString('hex'), '0acb01' + '0ac801');
    assert.equal((decode(schema.message('ImageFilter'), long) as any).image.image, 'x'.repeat(200));
  });

  it('decodes unpacked repeated scalars, skips unknown fields, survives large messages', () => {
    const pf = schema.message('PortForwardRequest');
    // port=80 and port=443 unpacked (tag 0x10), unknown fields 9 (varint), 10 (len), 11 (fixed64), 12 (fixed32)
    const buf = Buffer.from('1050' + '48' + '96' + '01' + '5203616263' + '59' + '0102030405060708' + '65' + '01020304' + '10bb03' + '0a0173', 'hex');
    assert.deepEqual(decode(pf, buf), { podSandboxId: 's', port: [80, 443] });
    assert.deepEqual(theirDecode('runtime.v1.PortForwardRequest', buf), { podSandboxId: 's', port: [80, 443] });
    // ListContainersResponse with 20,000 containers (~3.5 MB)
    const containers = Array.from({ length: 20_000 }, (_, i) => ({
      id: `c${i}`.padEnd(64, '0'), podSandboxId: 's'.repeat(64), metadata: { name: `n${i}`, attempt: 1 }, image: { image: 'sha256:'.padEnd(71, 'a') },
      imageRef: 'sha256:'.padEnd(71, 'b'), state: 'CONTAINER_RUNNING', createdAt: '1763900000123456789', labels: { 'io.kubernetes.pod.name': `p${i}`, 'io.kubernetes.pod.namespace': 'default' }, annotations: {},
    }));
    const def = schema.message('ListContainersResponse');
    const bytes = encode(def, { containers });
    assert.equal(bytes.toString('hex'), theirEncode('runtime.v1.ListContainersResponse', { containers }).toString('hex'));
    const back = decode(def, bytes) as { containers: any[] };
    assert.equal(back.containers.length, 20_000);
    assert.deepEqual(back.containers[19_999], { ...containers[19_999], image: { image: containers[19_999]!.image.image, annotations: {} } });
  });

  it('rejects wrong shapes and truncated input', () => {
    assert.throws(() => encode(schema.message('ExecSyncRequest'), { cmd: 'ls' }), /cmd: array expected/);
    assert.throws(() => encode(schema.message('RunPodSandboxRequest'), { config: 'x' }), /config: object expected/);
    assert.throws(() => decode(schema.message('VersionResponse'), Buffer.from('0a05616263', 'hex')), /truncated/);
  });

  it('parses the proto3 subset: nested types, oneof, comments, options, reserved', () => {
    const s = parseProto(`
      syntax = "proto3"; // comment
      package a.b;
      import "other.proto";
      option go_package = "x";
      /* block
         comment */
      message Outer {
        reserved 5, 6;
        message Inner { int32 x_y = 1; }
        enum Kind { K_ZERO = 0; K_ONE = 1 [deprecated = true]; }
        Inner inner = 1;
        repeated Kind kinds = 2;
        oneof choice { string text_value = 3; Inner inner_value = 4; }
        map<string, Inner> by_name = 7;
        sint64 delta = 8;
        fixed64 f64 = 9;
        double d = 10;
      }
      service S { rpc Do(Outer) returns (Outer.Inner); }
    `);
    const outer = s.message('Outer');
    assert.equal(s.message('a.b.Outer.Inner').fields[0]!.name, 'xY');
    assert.deepEqual(decode(outer, Buffer.alloc(0)), { inner: null, kinds: [], byName: {}, delta: '0', f64: '0', d: 0 });
    const obj = { inner: { xY: 7 }, kinds: ['K_ONE', 'K_ZERO'], textValue: 'hi', byName: { a: { xY: 1 } }, delta: '-3', f64: '18446744073709551615', d: 1.5 };
    const buf = encode(outer, obj);
    assert.deepEqual(decode(outer, buf), { ...obj, choice: 'textValue' });
    assert.equal(s.services.get('a.b.S')!.methods.get('Do')!.path, '/a.b.S/Do');
  });
});
