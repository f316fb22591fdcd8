/** One field of a protobuf message as it is on the wire. */
export interface WireField {
  field: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  wireType: number;
  /** The varint (as a signed 64-bit value) or the fixed value's bits. */
  int: bigint;
  /** Bytes of a length-delimited field. */
  bytes: Buffer;
}

/** Thrown for bytes that are not a well-formed protobuf message. */
export class ProtobufError extends Error {}

function readVarint(buf: Buffer, start: number): [value: bigint, next: number] {
  let result = 0n;
  let shift = 0n;
  for (let i = start; i < buf.length && shift < 70n; i++) {
    const byte = buf[i] ?? 0;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [BigInt.asIntN(64, result), i + 1];
    shift += 7n;
  }
  throw new ProtobufError('truncated varint');
}

/** Splits a message into its fields, in wire order (groups are not supported). */
export function readWireFields(buf: Buffer): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, afterKey] = readVarint(buf, at);
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    at = afterKey;
    if (wireType === 0) {
      const [value, next] = readVarint(buf, at);
      fields.push({ field, wireType, int: value, bytes: Buffer.alloc(0) });
      at = next;
    } else if (wireType === 2) {
      const [length, next] = readVarint(buf, at);
      const end = next + Number(length);
      if (length < 0n || end > buf.length)
        throw new ProtobufError('truncated length-delimited field');
      fields.push({ field, wireType, int: 0n, bytes: buf.subarray(next, end) });
      at = end;
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (at + size > buf.length) throw new ProtobufError('truncated fixed field');
      const int = size === 8 ? buf.readBigInt64LE(at) : BigInt(buf.readInt32LE(at));
      fields.push({ field, wireType, int, bytes: Buffer.alloc(0) });
      at += size;
    } else {
      throw new ProtobufError(`unsupported wire type ${wireType}`);
    }
  }
  return fields;
}
