// Well-known apimachinery messages whose JSON form is not an object of their fields.
import { WireReader, WIRE_BYTES, WIRE_VARINT } from './wire.ts';

/** Reads a message's fields as raw values keyed by number (last one wins, like proto). */
function scalarFields(bytes: Uint8Array): Map<number, bigint | Uint8Array> {
  const r = new WireReader(bytes);
  const out = new Map<number, bigint | Uint8Array>();
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire === WIRE_VARINT) out.set(field, r.varintBig());
    else if (wire === WIRE_BYTES) out.set(field, r.bytes());
    else r.skip(wire);
  }
  return out;
}

function num(v: bigint | Uint8Array | undefined): number {
  return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0;
}

function str(v: bigint | Uint8Array | undefined): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : '';
}

/** Time/MicroTime: {seconds 1, nanos 2}; an empty message is Go's zero time (JSON null, omitted). */
function time(bytes: Uint8Array, micro: boolean): string | undefined {
  if (bytes.length === 0) return undefined;
  const f = scalarFields(bytes);
  const seconds = num(f.get(1));
  const nanos = num(f.get(2));
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (!micro) return `${iso}Z`;
  return `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/** Go's time.Duration.String(), e.g. "1h2m3.5s", "150ms", "0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(ns);
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trimFraction(n / (div as number))}${unit}`;
  }
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = `${trimFraction(n / 1e9)}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

function trimFraction(v: number): string {
  return String(Number(v.toFixed(9)));
}

export const SPECIAL_TYPES = new Set(['Time', 'MicroTime', 'Duration', 'Quantity', 'IntOrString', 'FieldsV1', 'RawExtension']);

/** Converts a special message to its JSON value; undefined means "omit". */
export function decodeSpecial(type: string, bytes: Uint8Array): unknown {
  switch (type) {
    case 'Time':
      return time(bytes, false);
    case 'MicroTime':
      return time(bytes, true);
    case 'Duration':
      return formatGoDuration(num(scalarFields(bytes).get(1)));
    case 'Quantity':
      return str(scalarFields(bytes).get(1));
    case 'IntOrString': {
      // type 0 = Int (intVal 2), type 1 = String (strVal 3)
      const f = scalarFields(bytes);
      return num(f.get(1)) === 1 ? str(f.get(3)) : num(f.get(2));
    }
    case 'FieldsV1':
    case 'RawExtension': {
      const raw = scalarFields(bytes).get(1);
      if (!(raw instanceof Uint8Array) || raw.length === 0) return undefined;
      try {
        return JSON.parse(Buffer.from(raw).toString('utf8'));
      } catch {
        throw new Error(`protobuf: ${type} does not hold JSON; send JSON`);
      }
    }
    default:
      throw new Error(`protobuf: no decoder for special type ${type}`);
  }
}
