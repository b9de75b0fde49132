// Table-driven decoding of one protobuf message into Kubernetes-style JSON.
import { isScalar, messageSpec, type FieldSpec } from './schema.ts';
import { decodeSpecial, SPECIAL_TYPES } from './special.ts';
import { WireReader, WIRE_BYTES, WIRE_VARINT } from './wire.ts';

type Json = Record<string, unknown>;

function expectWire(f: FieldSpec, got: number, want: number, owner: string): void {
  if (got !== want) {
    throw new Error(`protobuf: ${owner}.${f.json} has wire type ${got}, expected ${want}`);
  }
}

/** One scalar value; bytes become base64 as in Kubernetes JSON. */
function readScalar(r: WireReader, f: FieldSpec, wire: number, owner: string): unknown {
  switch (f.type) {
    case 's':
      expectWire(f, wire, WIRE_BYTES, owner);
      return Buffer.from(r.bytes()).toString('utf8');
    case 'y':
      expectWire(f, wire, WIRE_BYTES, owner);
      return Buffer.from(r.bytes()).toString('base64');
    case 'i':
      expectWire(f, wire, WIRE_VARINT, owner);
      return r.int();
    case 'b':
      expectWire(f, wire, WIRE_VARINT, owner);
      return r.int() !== 0;
    default:
      throw new Error(`protobuf: ${owner}.${f.json} is not a scalar`);
  }
}

function decodeValue(type: string, bytes: Uint8Array): unknown {
  return SPECIAL_TYPES.has(type) ? decodeSpecial(type, bytes) : decodeMessage(type, bytes);
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/** A map entry message: key 1 (string), value 2. */
function readMapEntry(bytes: Uint8Array, f: FieldSpec, owner: string): [string, unknown] {
  const r = new WireReader(bytes);
  let key = '';
  let value: unknown = f.type === 'i' ? 0 : f.type === 'b' ? false : '';
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_BYTES) key = Buffer.from(r.bytes()).toString('utf8');
    else if (field === 2 && isScalar(f.type)) value = readScalar(r, f, wire, owner);
    else if (field === 2 && wire === WIRE_BYTES) value = decodeValue(f.type, r.bytes());
    else r.skip(wire);
  }
  if (!isScalar(f.type) && value === '') value = decodeValue(f.type, new Uint8Array());
  return [key, value];
}

/** Decodes message `type`; unknown field numbers are skipped like any protobuf reader would. */
export function decodeMessage(type: string, bytes: Uint8Array): Json {
  const spec = messageSpec(type);
  if (!spec) throw new Error(`protobuf: no field table for message ${type}`);
  const out: Json = {};
  const r = new WireReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    const f = spec.get(field);
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.map) {
      expectWire(f, wire, WIRE_BYTES, type);
      const [k, v] = readMapEntry(r.bytes(), f, type);
      const m = (out[f.json] ??= {}) as Json;
      m[k] = v;
    } else if (f.repeated) {
      const list = (out[f.json] ??= []) as unknown[];
      if (isScalar(f.type)) {
        if (wire === WIRE_BYTES && (f.type === 'i' || f.type === 'b')) {
          // packed encoding of numeric repeated fields
          const packed = new WireReader(r.bytes());
          while (!packed.done()) list.push(readScalar(packed, f, WIRE_VARINT, type));
        } else list.push(readScalar(r, f, wire, type));
      } else {
        expectWire(f, wire, WIRE_BYTES, type);
        list.push(decodeValue(f.type, r.bytes()) ?? null);
      }
    } else if (isScalar(f.type)) {
      const v = readScalar(r, f, wire, type);
      // Go's omitempty drops zero values of non-pointer fields; the server defaults them later.
      if (isZero(v) && !f.keepZero) delete out[f.json];
      else out[f.json] = v;
    } else {
      expectWire(f, wire, WIRE_BYTES, type);
      const v = decodeValue(f.type, r.bytes());
      if (f.inline) Object.assign(out, v as Json);
      else if (v === undefined) delete out[f.json];
      else if (isPlainObject(v) && isPlainObject(out[f.json])) Object.assign(out[f.json] as Json, v);
      else out[f.json] = v;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
