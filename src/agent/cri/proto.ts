// A small proto3 parser and protobuf codec for our api.proto, producing and accepting the
// same JS shapes as @grpc/proto-loader with { keepCase: false, longs: String, enums: String,
// defaults: true, arrays: true, objects: true, oneofs: true } (see README.md):
//  - field names camelCase (protobufjs' rule: `_x` → `X` for lowercase x only);
//  - int64/uint64/fixed64 decode to decimal strings (BigInt inside), encode from number,
//    string or bigint;
//  - enums decode to names (an unknown number stays a number), encode from names or numbers;
//  - decoding fills every scalar with its proto3 default, repeated → [], map → {}, an unset
//    message field → null (oneof members only when set, plus the virtual `oneofName: 'member'`);
//  - bytes decode to Buffers, encode from Buffer/Uint8Array/array or a base64 string;
//  - encoding writes every field that is not null/undefined (explicit defaults too), in
//    field-number order, packs repeated numeric fields, and writes map entries with both
//    key and value: byte for byte what protobufjs writes. Decoding accepts packed and
//    unpacked repeated scalars and skips unknown fields.
//
// The parser knows the proto3 subset: syntax, package, import/option (ignored), messages
// (nested), enums (nested), scalar fields, `repeated`, `map<K,V>`, `oneof`, `reserved`,
// field options ([deprecated = true]), services with unary rpcs.

// ---- schema ----

export type ScalarType =
  | 'double' | 'float' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'sint32' | 'sint64'
  | 'fixed32' | 'fixed64' | 'sfixed32' | 'sfixed64' | 'bool' | 'string' | 'bytes';

const SCALARS = new Set<string>([
  'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes',
]);

// wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit
const WIRE: Record<ScalarType, number> = {
  double: 1, float: 5, int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0,
  fixed32: 5, fixed64: 1, sfixed32: 5, sfixed64: 1, bool: 0, string: 2, bytes: 2,
};

export interface EnumDef {
  kind: 'enum';
  fullName: string;
  values: Map<string, number>;
  names: Map<number, string>;
  defaultName: string;
}

export interface FieldDef {
  /** camelCase, as proto-loader names it */
  name: string;
  protoName: string;
  number: number;
  /** scalar name, or the type name as written (resolved into `resolved`) */
  type: string;
  repeated: boolean;
  map?: { keyType: ScalarType; valueType: string; valueResolved?: MessageDef | EnumDef };
  resolved?: MessageDef | EnumDef;
  oneof?: string;
  /** precomputed after resolution */
  tag: number;
  packed: boolean;
}

export interface MessageDef {
  kind: 'message';
  fullName: string;
  fields: FieldDef[];
  byNumber: Map<number, FieldDef>;
  oneofs: string[];
}

export interface MethodDef { name: string; requestType: MessageDef; responseType: MessageDef; path: string }
export interface ServiceDef { fullName: string; methods: Map<string, MethodDef> }

export interface Schema {
  package: string;
  types: Map<string, MessageDef | EnumDef>;
  services: Map<string, ServiceDef>;
  /** A message by full name (`runtime.v1.Container`) or by name in the package (`Container`). */
  message(name: string): MessageDef;
}

/** protobufjs' util.camelCase */
export function camelCase(s: string): string {
  return s.slice(0, 1) + s.slice(1).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

// ---- parser ----

function tokenize(src: string): string[] {
  const tokens: string[] = [];
  const re = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_.][A-Za-z0-9_.]*|-?[0-9][A-Za-z0-9_.+-]*|[{}()[\]<>=;,]/y;
  let m: RegExpExecArray | null;
  let i = 0;
  while (i < src.length) {
    re.lastIndex = i;
    m = re.exec(src);
    if (!m) throw new Error(`proto: unexpected character ${JSON.stringify(src[i])} at offset ${i}`);
    i = re.lastIndex;
    const t = m[0];
    if (/^\s/.test(t) || t.startsWith('//') || t.startsWith('/*')) continue;
    tokens.push(t);
  }
  return tokens;
}

interface RawField { protoName: string; number: number; type: string; repeated: boolean; map?: { keyType: string; valueType: string }; oneof?: string }
interface RawMessage { fullName: string; scope: string; fields: RawField[]; oneofs: string[] }
interface RawService { fullName: string; scope: string; methods: { name: string; req: string; res: string }[] }

/** Parses proto3 source text into a resolved schema. */
export function parseProto(src: string): Schema {
  const t = tokenize(src);
  let p = 0;
  const peek = () => t[p];
  const next = (): string => {
    const v = t[p++];
    if (v === undefined) throw new Error('proto: unexpected end of file');
    return v;
  };
  const expect = (v: string) => {
    const got = next();
    if (got !== v) throw new Error(`proto: expected ${JSON.stringify(v)}, got ${JSON.stringify(got)} (token ${p - 1})`);
  };
  const skipStatement = () => {
    // to the next ';' at depth 0, or over a balanced {...} block
    let depth = 0;
    for (;;) {
      const v = next();
      if (v === '{') depth++;
      else if (v === '}') {
        if (--depth <= 0) return;
      } else if (v === ';' && depth === 0) return;
    }
  };
  const skipFieldOptions = () => {
    if (peek() !== '[') return;
    while (next() !== ']');
  };
  const number = (): number => {
    const v = next();
    const n = /^-?0x/i.test(v) ? parseInt(v, 16) : Number(v);
    if (!Number.isInteger(n)) throw new Error(`proto: expected a number, got ${JSON.stringify(v)}`);
    return n;
  };

  let pkg = '';
  const messages: RawMessage[] = [];
  const enums: EnumDef[] = [];
  const services: RawService[] = [];

  const parseEnum = (scope: string) => {
    const name = next();
    const fullName = scope ? `${scope}.${name}` : name;
    const values = new Map<string, number>();
    const names = new Map<number, string>();
    let first: string | undefined;
    expect('{');
    while (peek() !== '}') {
      const v = next();
      if (v === ';') continue;
      if (v === 'option' || v === 'reserved') {
        skipStatement();
        continue;
      }
      expect('=');
      const n = number();
      skipFieldOptions();
      expect(';');
      values.set(v, n);
      if (!names.has(n)) names.set(n, v);
      first ??= v;
    }
    expect('}');
    enums.push({ kind: 'enum', fullName, values, names, defaultName: names.get(0) ?? first ?? '' });
  };

  const parseField = (first: string, oneof?: string): RawField => {
    let repeated = false;
    let type = first;
    if (type === 'repeated') {
      repeated = true;
      type = next();
    } else if (type === 'optional' || type === 'required') {
      throw new Error(`proto: '${type}' fields are not supported by this parser`);
    }
    let map: RawField['map'];
    if (type === 'map') {
      expect('<');
      const keyType = next();
      expect(',');
      const valueType = next();
      expect('>');
      map = { keyType, valueType };
    }
    const protoName = next();
    expect('=');
    const n = number();
    skipFieldOptions();
    expect(';');
    return { protoName, number: n, type, repeated, map, oneof };
  };

  const parseMessage = (scope: string) => {
    const name = next();
    const fullName = scope ? `${scope}.${name}` : name;
    const msg: RawMessage = { fullName, scope, fields: [], oneofs: [] };
    messages.push(msg);
    expect('{');
    while (peek() !== '}') {
      const v = next();
      if (v === ';') continue;
      if (v === 'message') parseMessage(fullName);
      else if (v === 'enum') parseEnum(fullName);
      else if (v === 'option' || v === 'reserved' || v === 'extensions') skipStatement();
      else if (v === 'oneof') {
        const oneofName = next();
        msg.oneofs.push(camelCase(oneofName));
        expect('{');
        while (peek() !== '}') {
          const f = next();
          if (f === ';') continue;
          if (f === 'option') {
            skipStatement();
            continue;
          }
          msg.fields.push(parseField(f, camelCase(oneofName)));
        }
        expect('}');
      } else msg.fields.push(parseField(v));
    }
    expect('}');
  };

  const parseService = (scope: string) => {
    const name = next();
    const svc: RawService = { fullName: scope ? `${scope}.${name}` : name, scope, methods: [] };
    services.push(svc);
    expect('{');
    while (peek() !== '}') {
      const v = next();
      if (v === ';') continue;
      if (v === 'option') {
        skipStatement();
        continue;
      }
      if (v !== 'rpc') throw new Error(`proto: unexpected ${JSON.stringify(v)} in service ${name}`);
      const method = next();
      expect('(');
      let req = next();
      if (req === 'stream') throw new Error(`proto: streaming rpc ${method} is not supported`);
      expect(')');
      expect('returns');
      expect('(');
      let res = next();
      if (res === 'stream') throw new Error(`proto: streaming rpc ${method} is not supported`);
      expect(')');
      if (peek() === '{') {
        next();
        while (peek() !== '}') {
          const o = next();
          if (o === 'option') skipStatement();
          else if (o !== ';') throw new Error(`proto: unexpected ${JSON.stringify(o)} in rpc ${method}`);
        }
        expect('}');
      } else expect(';');
      svc.methods.push({ name: method, req, res });
      req = res = '';
    }
    expect('}');
  };

  while (p < t.length) {
    const v = next();
    if (v === ';') continue;
    if (v === 'syntax') {
      expect('=');
      const s = next();
      if (s.slice(1, -1) !== 'proto3') throw new Error(`proto: only proto3 is supported, got ${s}`);
      expect(';');
    } else if (v === 'package') {
      pkg = next();
      expect(';');
    } else if (v === 'import' || v === 'option') skipStatement();
    else if (v === 'message') parseMessage(pkg);
    else if (v === 'enum') parseEnum(pkg);
    else if (v === 'service') parseService(pkg);
    else throw new Error(`proto: unexpected ${JSON.stringify(v)} at top level`);
  }

  // ---- resolution ----
  const types = new Map<string, MessageDef | EnumDef>();
  for (const e of enums) types.set(e.fullName, e);
  for (const m of messages) types.set(m.fullName, { kind: 'message', fullName: m.fullName, fields: [], byNumber: new Map(), oneofs: m.oneofs });
  const resolve = (name: string, scope: string): MessageDef | EnumDef => {
    if (name.startsWith('.')) {
      const d = types.get(name.slice(1));
      if (d) return d;
    } else {
      // innermost scope first, as protoc does
      let s = scope;
      for (;;) {
        const d = types.get(s ? `${s}.${name}` : name);
        if (d) return d;
        if (!s) break;
        const dot = s.lastIndexOf('.');
        s = dot < 0 ? '' : s.slice(0, dot);
      }
    }
    throw new Error(`proto: unknown type ${name} (in ${scope})`);
  };
  for (const m of messages) {
    const def = types.get(m.fullName) as MessageDef;
    for (const f of m.fields) {
      const field: FieldDef = { name: camelCase(f.protoName), protoName: f.protoName, number: f.number, type: f.type, repeated: f.repeated, oneof: f.oneof, tag: 0, packed: false };
      if (f.map) {
        if (!SCALARS.has(f.map.keyType) || f.map.keyType === 'bytes' || f.map.keyType === 'double' || f.map.keyType === 'float') {
          throw new Error(`proto: bad map key type ${f.map.keyType}`);
        }
        field.map = { keyType: f.map.keyType as ScalarType, valueType: f.map.valueType };
        if (!SCALARS.has(f.map.valueType)) {
          const r = resolve(f.map.valueType, m.fullName);
          field.map.valueResolved = r;
          field.map.valueType = r.kind === 'enum' ? 'enum' : 'message';
        }
        field.tag = (f.number << 3) | 2;
      } else if (SCALARS.has(f.type)) {
        const wire = WIRE[f.type as ScalarType];
        field.packed = f.repeated && wire !== 2;
        field.tag = (f.number << 3) | (field.packed ? 2 : wire);
      } else {
        const r = resolve(f.type, m.fullName);
        field.resolved = r;
        field.type = r.kind;
        field.packed = f.repeated && r.kind === 'enum';
        field.tag = (f.number << 3) | (r.kind === 'enum' && !f.repeated ? 0 : 2);
      }
      def.fields.push(field);
      def.byNumber.set(field.number, field);
    }
    def.fields.sort((a, b) => a.number - b.number);
  }
  const svcDefs = new Map<string, ServiceDef>();
  for (const s of services) {
    const methods = new Map<string, MethodDef>();
    for (const rpc of s.methods) {
      const req = resolve(rpc.req, s.scope);
      const res = resolve(rpc.res, s.scope);
      if (req.kind !== 'message' || res.kind !== 'message') throw new Error(`proto: rpc ${rpc.name} needs message types`);
      methods.set(rpc.name, { name: rpc.name, requestType: req, responseType: res, path: `/${s.fullName}/${rpc.name}` });
    }
    svcDefs.set(s.fullName, { fullName: s.fullName, methods });
  }
  return {
    package: pkg,
    types,
    services: svcDefs,
    message(name: string): MessageDef {
      const d = types.get(name) ?? types.get(pkg ? `${pkg}.${name}` : name);
      if (!d || d.kind !== 'message') throw new Error(`proto: no message ${name}`);
      return d;
    },
  };
}

// ---- writer ----

const utf8 = new TextEncoder();

class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  /** unsigned varint of a non-negative safe integer */
  uvarint(n: number): void {
    this.ensure(10);
    while (n > 0x7f) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  /** varint of a 64-bit two's complement value */
  varint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    if (u <= 0x1fffffffffffffn) return this.uvarint(Number(u));
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }
  int32(n: number): void {
    if (n >= 0) this.uvarint(n);
    else this.varint64(BigInt(n)); // sign-extended to 10 bytes
  }
  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  string(s: string): void {
    // ASCII fast path
    let ascii = s.length < 128;
    if (ascii) for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
    if (ascii) {
      this.uvarint(s.length);
      this.ensure(s.length);
      for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
      return;
    }
    this.bytes(utf8.encode(s));
  }
  fixed32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(n >>> 0, this.pos);
    this.pos += 4;
  }
  fixed64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
  }
  double(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
  }
  float(n: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(n, this.pos);
    this.pos += 4;
  }
  /** Writes a length-delimited sub-message produced by fn (length prefix moved into place). */
  sub(fn: () => void): void {
    // reserve 1 byte for the length (most sub-messages are short), shift if it needs more
    this.ensure(1);
    const start = ++this.pos;
    fn();
    const len = this.pos - start;
    if (len < 128) {
      this.buf[start - 1] = len;
      return;
    }
    let n = 0;
    for (let l = len; l > 0x7f; l = Math.floor(l / 128)) n++;
    this.ensure(n);
    this.buf.copy(this.buf, start + n, start, this.pos);
    let at = start - 1;
    let l = len;
    while (l > 0x7f) {
      this.buf[at++] = (l % 128) | 0x80;
      l = Math.floor(l / 128);
    }
    this.buf[at++] = l;
    this.pos = at + len;
  }
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function toBigInt(v: unknown, path: string): bigint {
  switch (typeof v) {
    case 'bigint':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${path}: integer expected`);
      return BigInt(Math.trunc(v));
    case 'string':
      try {
        return BigInt(v.trim() === '' ? '0' : v.trim());
      } catch {
        throw new TypeError(`${path}: integer expected, got ${JSON.stringify(v)}`);
      }
    case 'boolean':
      return v ? 1n : 0n;
    default:
      if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
        // a Long
        const l = v as { low: number; high: number; unsigned?: boolean };
        return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
      }
      throw new TypeError(`${path}: integer expected`);
  }
}

function toBytes(v: unknown, path: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  throw new TypeError(`${path}: buffer expected`);
}

function writeScalar(w: Writer, type: ScalarType, v: unknown, path: string): void {
  switch (type) {
    case 'string':
      return w.string(String(v));
    case 'bool':
      return w.byte(v ? 1 : 0);
    case 'int32':
      return w.int32(Number(v) | 0);
    case 'uint32':
      return w.uvarint(Number(v) >>> 0);
    case 'sint32': {
      const n = Number(v) | 0;
      return w.uvarint(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case 'int64':
    case 'uint64':
      return w.varint64(toBigInt(v, path));
    case 'sint64': {
      const b = BigInt.asIntN(64, toBigInt(v, path));
      return w.varint64((b << 1n) ^ (b >> 63n));
    }
    case 'fixed32':
      return w.fixed32(Number(v) >>> 0);
    case 'sfixed32':
      return w.fixed32(Number(v) | 0);
    case 'fixed64':
    case 'sfixed64':
      return w.fixed64(toBigInt(v, path));
    case 'double':
      return w.double(Number(v));
    case 'float':
      return w.float(Number(v));
    case 'bytes':
      return w.bytes(toBytes(v, path));
  }
}

/** An enum value as a number, or undefined for an unknown name (protobufjs then leaves the field unset). */
function enumNumber(e: EnumDef, v: unknown): number | undefined {
  if (typeof v === 'number') return v | 0;
  if (typeof v === 'string') return e.values.get(v);
  return undefined;
}

function writeMessage(w: Writer, def: MessageDef, obj: Record<string, unknown>): void {
  for (const f of def.fields) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const path = `.${def.fullName}.${f.name}`;
    if (f.map) {
      if (typeof v !== 'object') throw new TypeError(`${path}: object expected`);
      const { keyType, valueType, valueResolved } = f.map;
      for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
        w.uvarint(f.tag);
        w.sub(() => {
          w.byte((1 << 3) | WIRE[keyType]);
          writeScalar(w, keyType, keyType === 'bool' ? k === 'true' : k, path);
          if (valueResolved?.kind === 'message') {
            if (val === null || typeof val !== 'object') throw new TypeError(`${path}: object expected`);
            w.byte((2 << 3) | 2);
            w.sub(() => writeMessage(w, valueResolved, val as Record<string, unknown>));
          } else if (valueResolved?.kind === 'enum') {
            w.byte(2 << 3);
            w.int32(enumNumber(valueResolved, val) ?? 0);
          } else {
            w.byte((2 << 3) | WIRE[valueType as ScalarType]);
            writeScalar(w, valueType as ScalarType, val, path);
          }
        });
      }
      continue;
    }
    if (f.repeated) {
      if (!Array.isArray(v)) throw new TypeError(`${path}: array expected`);
      if (v.length === 0) continue;
      if (f.packed) {
        w.uvarint(f.tag);
        w.sub(() => {
          for (const x of v) {
            if (f.type === 'enum') {
              const n = enumNumber(f.resolved as EnumDef, x);
              w.int32(n ?? 0);
            } else writeScalar(w, f.type as ScalarType, x, path);
          }
        });
      } else {
        for (const x of v) {
          if (f.type === 'message') {
            if (x === null || typeof x !== 'object') throw new TypeError(`${path}: object expected`);
            w.uvarint(f.tag);
            w.sub(() => writeMessage(w, f.resolved as MessageDef, x as Record<string, unknown>));
          } else {
            w.uvarint(f.tag);
            writeScalar(w, f.type as ScalarType, x, path);
          }
        }
      }
      continue;
    }
    if (f.type === 'message') {
      if (typeof v !== 'object') throw new TypeError(`${path}: object expected`);
      w.uvarint(f.tag);
      w.sub(() => writeMessage(w, f.resolved as MessageDef, v as Record<string, unknown>));
    } else if (f.type === 'enum') {
      const n = enumNumber(f.resolved as EnumDef, v);
      if (n === undefined) continue;
      w.uvarint(f.tag);
      w.int32(n);
    } else {
      w.uvarint(f.tag);
      writeScalar(w, f.type as ScalarType, v, path);
    }
  }
}

/** Encodes a plain JS object (proto-loader shape) as `def`. Throws TypeError on a wrong shape. */
export function encode(def: MessageDef, obj: Record<string, unknown>): Buffer {
  const w = new Writer();
  writeMessage(w, def, obj ?? {});
  return w.finish();
}

// ---- reader ----

const utf8d = new TextDecoder('utf-8');
const TWO32 = 4294967296;

class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start;
  }
  truncated(): never {
    throw new RangeError(`protobuf: truncated message (index ${this.pos} of ${this.end})`);
  }
  /** a varint as a Number (exact below 2^53; callers needing 64 bits use varint64) */
  uvarint(): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.truncated();
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new RangeError('protobuf: varint longer than 10 bytes');
  }
  /** a varint as (lo, hi) 32-bit halves */
  varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    const buf = this.buf;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.truncated();
      const b = buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new RangeError('protobuf: varint longer than 10 bytes');
  }
  /** the low 32 bits of a varint (int32/uint32/enum/bool: protobufjs' `uint32()`) */
  varint32(): number {
    return this.varint64()[0];
  }
  length(): number {
    const n = this.uvarint();
    if (this.pos + n > this.end) this.truncated();
    return n;
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const n = this.length(); // before adding: `this.pos += this.length()` reads pos first
        this.pos += n;
        return;
      }
      case 5:
        this.pos += 4;
        break;
      case 3: // group: skip to the matching end-group
        for (;;) {
          const key = this.uvarint();
          if ((key & 7) === 4) return;
          this.skip(key & 7);
        }
      default:
        throw new RangeError(`protobuf: invalid wire type ${wire} at offset ${this.pos}`);
    }
    if (this.pos > this.end) this.truncated();
  }
}

function int64String(lo: number, hi: number, signed: boolean): string {
  if (hi === 0) return String(lo);
  if (!signed || hi < 0x80000000) {
    if (hi < 0x200000) return String(hi * TWO32 + lo);
    return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function readScalar(r: Reader, type: ScalarType): unknown {
  switch (type) {
    case 'string': {
      const n = r.length();
      const s = r.buf.toString('utf8', r.pos, r.pos + n);
      r.pos += n;
      return s;
    }
    case 'bytes': {
      const n = r.length();
      const b = Buffer.from(r.buf.subarray(r.pos, r.pos + n)); // a copy: the frame buffer is not kept alive
      r.pos += n;
      return b;
    }
    case 'bool': {
      const [lo, hi] = r.varint64();
      return lo !== 0 || hi !== 0;
    }
    case 'int32':
      return r.varint32() | 0;
    case 'uint32':
      return r.varint32();
    case 'sint32': {
      const n = r.varint32();
      return (n >>> 1) ^ -(n & 1);
    }
    case 'int64': {
      const [lo, hi] = r.varint64();
      return int64String(lo, hi, true);
    }
    case 'uint64': {
      const [lo, hi] = r.varint64();
      return int64String(lo, hi, false);
    }
    case 'sint64': {
      const [lo, hi] = r.varint64();
      const u = (BigInt(hi) << 32n) | BigInt(lo);
      return ((u >> 1n) ^ -(u & 1n)).toString();
    }
    case 'fixed32':
      if (r.pos + 4 > r.end) r.truncated();
      r.pos += 4;
      return r.buf.readUInt32LE(r.pos - 4);
    case 'sfixed32':
      if (r.pos + 4 > r.end) r.truncated();
      r.pos += 4;
      return r.buf.readInt32LE(r.pos - 4);
    case 'fixed64':
      if (r.pos + 8 > r.end) r.truncated();
      r.pos += 8;
      return r.buf.readBigUInt64LE(r.pos - 8).toString();
    case 'sfixed64':
      if (r.pos + 8 > r.end) r.truncated();
      r.pos += 8;
      return r.buf.readBigInt64LE(r.pos - 8).toString();
    case 'double':
      if (r.pos + 8 > r.end) r.truncated();
      r.pos += 8;
      return r.buf.readDoubleLE(r.pos - 8);
    case 'float':
      if (r.pos + 4 > r.end) r.truncated();
      r.pos += 4;
      return r.buf.readFloatLE(r.pos - 4);
  }
}

function scalarDefault(type: ScalarType): unknown {
  switch (type) {
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'bool':
      return false;
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64':
      return '0';
    default:
      return 0;
  }
}

function enumName(e: EnumDef, n: number): string | number {
  return e.names.get(n) ?? n;
}

function fieldDefault(f: FieldDef): unknown {
  if (f.map) return {};
  if (f.repeated) return [];
  if (f.type === 'message') return null;
  if (f.type === 'enum') return (f.resolved as EnumDef).defaultName;
  return scalarDefault(f.type as ScalarType);
}

function readValue(r: Reader, f: FieldDef): unknown {
  if (f.type === 'message') {
    const n = r.length();
    const end = r.pos + n;
    const v = readMessage(r, f.resolved as MessageDef, end);
    r.pos = end;
    return v;
  }
  if (f.type === 'enum') return enumName(f.resolved as EnumDef, r.varint32() | 0);
  return readScalar(r, f.type as ScalarType);
}

function expectedWire(f: FieldDef): number {
  if (f.type === 'message') return 2;
  if (f.type === 'enum') return 0;
  return WIRE[f.type as ScalarType];
}

function readMapEntry(r: Reader, f: FieldDef, target: Record<string, unknown>): void {
  const n = r.length();
  const end = r.pos + n;
  const { keyType, valueType, valueResolved } = f.map!;
  let key: unknown = scalarDefault(keyType);
  let value: unknown;
  while (r.pos < end) {
    const tag = r.uvarint();
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    if (num === 1 && wire === WIRE[keyType]) key = readScalar(r, keyType);
    else if (num === 2 && valueResolved?.kind === 'message' && wire === 2) {
      const len = r.length();
      const vend = r.pos + len;
      value = readMessage(r, valueResolved, vend);
      r.pos = vend;
    } else if (num === 2 && valueResolved?.kind === 'enum' && wire === 0) value = enumName(valueResolved, r.varint32() | 0);
    else if (num === 2 && !valueResolved && wire === WIRE[valueType as ScalarType]) value = readScalar(r, valueType as ScalarType);
    else r.skip(wire);
  }
  if (r.pos !== end) r.truncated();
  if (value === undefined) {
    if (valueResolved?.kind === 'message') value = readMessage(new Reader(Buffer.alloc(0)), valueResolved, 0);
    else if (valueResolved?.kind === 'enum') value = valueResolved.defaultName;
    else value = scalarDefault(valueType as ScalarType);
  }
  target[String(key)] = value;
}

function readMessage(r: Reader, def: MessageDef, end: number): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const f of def.fields) if (!f.oneof) obj[f.name] = fieldDefault(f);
  while (r.pos < end) {
    const tag = r.uvarint();
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    const f = def.byNumber.get(num);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.map) {
      if (wire !== 2) r.skip(wire);
      else readMapEntry(r, f, obj[f.name] as Record<string, unknown>);
    } else if (f.repeated) {
      const list = obj[f.name] as unknown[];
      const native = expectedWire(f);
      if (wire === 2 && native !== 2) {
        // packed
        const n = r.length();
        const pend = r.pos + n;
        while (r.pos < pend) list.push(readValue(r, f));
        if (r.pos !== pend) r.truncated();
      } else if (wire === native) list.push(readValue(r, f));
      else r.skip(wire);
    } else if (wire === expectedWire(f)) {
      obj[f.name] = readValue(r, f);
      if (f.oneof) {
        for (const o of def.fields) if (o.oneof === f.oneof && o !== f) delete obj[o.name];
        obj[f.oneof] = f.name;
      }
    } else r.skip(wire);
  }
  if (r.pos > end) r.truncated();
  return obj;
}

/** Decodes `buf` as `def` into the proto-loader shape (defaults filled in). */
export function decode(def: MessageDef, buf: Buffer): Record<string, unknown> {
  const r = new Reader(buf);
  return readMessage(r, def, buf.length);
}
