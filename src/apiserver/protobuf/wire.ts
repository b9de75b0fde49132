// Minimal protobuf wire-format reader: just enough to walk Kubernetes messages.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export class WireReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new Error(`protobuf: truncated data at offset ${this.pos} (need ${n} more bytes)`);
    }
  }

  // Varints are read as BigInt so 64-bit and sign-extended negative int32 values survive.
  varintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new Error(`protobuf: malformed varint at offset ${this.pos}`);
  }

  /** A varint interpreted as a signed 64-bit integer (int32/int64 fields). */
  int(): number {
    return Number(BigInt.asIntN(64, this.varintBig()));
  }

  /** Tag: field number and wire type. */
  tag(): { field: number; wire: number } {
    const t = Number(this.varintBig());
    const field = Math.floor(t / 8);
    if (field === 0) throw new Error(`protobuf: invalid field number 0 at offset ${this.pos}`);
    return { field, wire: t & 7 };
  }

  bytes(): Uint8Array {
    const len = Number(this.varintBig());
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  fixed64(): bigint {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getUint32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varintBig();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new Error(`protobuf: unsupported wire type ${wire} at offset ${this.pos}`);
    }
  }
}
