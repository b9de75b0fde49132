// Tiny protobuf encoder for tests: builds Kubernetes-style messages field by field.
import { MAGIC } from './envelope.ts';

function varint(v: bigint): Buffer {
  let n = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return Buffer.from(out);
}

const tag = (field: number, wire: number): Buffer => varint(BigInt(field * 8 + wire));

export const int = (field: number, v: number): Buffer => Buffer.concat([tag(field, 0), varint(BigInt(v))]);
export const bool = (field: number, v: boolean): Buffer => int(field, v ? 1 : 0);
export const bytes = (field: number, b: Uint8Array): Buffer =>
  Buffer.concat([tag(field, 2), varint(BigInt(b.length)), b]);
export const str = (field: number, s: string): Buffer => bytes(field, Buffer.from(s, 'utf8'));
export const msg = (field: number, ...parts: Buffer[]): Buffer => bytes(field, Buffer.concat(parts));
/** One map entry (key 1, value 2), repeated once per key on the wire. */
export const entry = (field: number, key: string, value: Buffer | string): Buffer =>
  msg(field, str(1, key), typeof value === 'string' ? str(2, value) : bytes(2, value));
export const map = (field: number, obj: Record<string, string>): Buffer =>
  Buffer.concat(Object.entries(obj).map(([k, v]) => entry(field, k, v)));

/** "k8s\0" + runtime.Unknown{typeMeta, raw}. */
export function envelope(apiVersion: string, kind: string, ...raw: Buffer[]): Buffer {
  return Buffer.concat([MAGIC, msg(1, str(1, apiVersion), str(2, kind)), msg(2, ...raw)]);
}
