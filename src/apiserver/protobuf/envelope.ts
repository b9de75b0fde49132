// The Kubernetes protobuf envelope: "k8s\0" magic, then a runtime.Unknown message.
import { WireReader, WIRE_BYTES } from './wire.ts';

export const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

function text(b: Uint8Array): string {
  return Buffer.from(b).toString('utf8');
}

/** TypeMeta: apiVersion 1, kind 2. */
function readTypeMeta(bytes: Uint8Array, env: Envelope): void {
  const r = new WireReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_BYTES) env.apiVersion = text(r.bytes());
    else if (field === 2 && wire === WIRE_BYTES) env.kind = text(r.bytes());
    else r.skip(wire);
  }
}

/** Splits a request body into its type and the object's own message bytes. */
export function readEnvelope(buf: Uint8Array): Envelope {
  if (buf.length < MAGIC.length || !MAGIC.equals(buf.subarray(0, MAGIC.length))) {
    throw new Error('protobuf: body does not start with the Kubernetes magic prefix "k8s\\x00"');
  }
  const env: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(), contentEncoding: '', contentType: '' };
  const r = new WireReader(buf, MAGIC.length);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire !== WIRE_BYTES) {
      r.skip(wire);
      continue;
    }
    const b = r.bytes();
    if (field === 1) readTypeMeta(b, env);
    else if (field === 2) env.raw = b;
    else if (field === 3) env.contentEncoding = text(b);
    else if (field === 4) env.contentType = text(b);
  }
  return env;
}
