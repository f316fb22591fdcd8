import { describe, expect, it } from 'vitest';
import { decodeMessage, table } from './decode-message.js';
import { ProtobufError, readWireFields } from './wire-reader.js';

/** A tiny encoder for the test's messages: varints and length-delimited fields. */
function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}
const int = (field: number, value: number): number[] => [
  ...varint(BigInt(field << 3)),
  ...varint(BigInt(value)),
];
const bytes = (field: number, content: number[] | string): number[] => {
  const data = typeof content === 'string' ? [...Buffer.from(content)] : content;
  return [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(data.length)), ...data];
};

const spec = table({
  1: ['replicas', 'int', 'pointer'],
  2: ['minReadySeconds', 'int'],
  3: ['paused', 'bool'],
  4: ['name', 'string'],
  5: ['labels', { map: 'string' }],
  6: ['args', 'string', 'repeated'],
  7: ['targetPort', 'intOrString'],
  8: ['nested', table({ 1: ['type', 'string'] })],
  9: ['suspend', 'bool', 'pointer'],
  10: ['created', 'time'],
});

describe('decodeMessage', () => {
  it('keeps set pointer fields even when zero, drops the zero values and empty messages omitempty drops', () => {
    const message = Buffer.from([
      ...int(1, 0),
      ...int(2, 0),
      ...int(3, 0),
      ...bytes(4, ''),
      ...bytes(8, []),
      ...int(9, 0),
      ...int(99, 7),
    ]);
    expect(decodeMessage(message, spec)).toEqual({ replicas: 0, suspend: false });
  });

  it('maps become objects, repeated fields arrays, IntOrString a number or a string, Time RFC 3339', () => {
    const message = Buffer.from([
      ...bytes(5, [...bytes(1, 'app'), ...bytes(2, 'web')]),
      ...bytes(5, [...bytes(1, 'tier'), ...bytes(2, 'front')]),
      ...bytes(6, 'echo'),
      ...bytes(6, ''),
      ...bytes(7, [...int(1, 1), ...bytes(3, 'http')]),
      ...bytes(10, int(1, 1_700_000_000)),
      ...int(2, -1),
    ]);
    expect(decodeMessage(message, spec)).toEqual({
      labels: { app: 'web', tier: 'front' },
      args: ['echo', ''],
      targetPort: 'http',
      created: '2023-11-14T22:13:20Z',
      minReadySeconds: -1,
    });
    expect(decodeMessage(Buffer.from(bytes(7, [...int(1, 0), ...int(2, 8080)])), spec)).toEqual({
      targetPort: 8080,
    });
  });

  it('truncated input is a ProtobufError', () => {
    expect(() => readWireFields(Buffer.from([0x22, 0x05, 0x61]))).toThrow(ProtobufError);
    expect(() => readWireFields(Buffer.from([0x08, 0x80]))).toThrow(ProtobufError);
  });
});
