import { readWireFields, type WireField } from './wire-reader.js';

/** A scalar as the Go types encode it; `time` is metav1.Time, `quantity` resource.Quantity. */
export type Scalar = 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'quantity' | 'intOrString';

/** A map field (`map<string, V>` on the wire: repeated entries with key 1 and value 2). */
export interface MapOf {
  map: Scalar;
}

/** How one field number decodes: its JSON name, what it holds, and whether it repeats. */
export interface FieldSpec {
  name: string;
  of: Scalar | MapOf | MessageTable;
  repeated?: boolean;
  /** A Go pointer: present on the wire means set, so a zero value is kept. */
  pointer?: boolean;
}

/** A message's field table, by field number. */
export type MessageTable = Record<number, FieldSpec>;

/** `[name, of, flags]`, the compact form the tables are written in. */
export type FieldEntry = [name: string, of: FieldSpec['of'], flags?: 'repeated' | 'pointer'];

export function table(entries: Record<number, FieldEntry>): MessageTable {
  return Object.fromEntries(
    Object.entries(entries).map(([field, [name, of, flag]]) => [
      field,
      {
        name,
        of,
        ...(flag === 'repeated' ? { repeated: true } : {}),
        ...(flag === 'pointer' ? { pointer: true } : {}),
      },
    ]),
  );
}

const timeTable = table({ 1: ['seconds', 'int'], 2: ['nanos', 'int'] });
const intOrStringTable = table({
  1: ['type', 'int'],
  2: ['intVal', 'int'],
  3: ['strVal', 'string'],
});

function scalar(of: Scalar, wire: WireField): unknown {
  switch (of) {
    case 'string':
      return wire.bytes.toString('utf8');
    case 'int':
      return Number(wire.int);
    case 'bool':
      return wire.int !== 0n;
    case 'bytes':
      return wire.bytes.toString('base64');
    case 'quantity':
      return decodeMessage(wire.bytes, table({ 1: ['string', 'string'] })).string ?? '';
    case 'time': {
      const t = decodeMessage(wire.bytes, timeTable) as { seconds?: number };
      return t.seconds === undefined
        ? undefined
        : new Date(t.seconds * 1000).toISOString().replace('.000Z', 'Z');
    }
    case 'intOrString': {
      const v = decodeMessage(wire.bytes, intOrStringTable, true) as {
        type?: number;
        intVal?: number;
        strVal?: string;
      };
      return v.type === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
    }
  }
}

/** Go's zero values, which JSON with `omitempty` leaves out. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === '' || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

function decodeValue(spec: FieldSpec, wire: WireField): unknown {
  if (typeof spec.of === 'string') return scalar(spec.of, wire);
  if ('map' in spec.of && typeof spec.of.map === 'string') {
    const entry = readWireFields(wire.bytes);
    const key = entry.find((f) => f.field === 1)?.bytes.toString('utf8') ?? '';
    const value = entry.find((f) => f.field === 2);
    return [key, value ? scalar(spec.of.map, value) : ''];
  }
  return decodeMessage(wire.bytes, spec.of as MessageTable);
}

/**
 * Decodes a Kubernetes protobuf message into the JSON object its Go type marshals to: fields by
 * the table (unknown ones skipped), zero values of non-pointer fields and empty messages left
 * out as `omitempty` would, maps as objects, repeated fields as arrays.
 */
export function decodeMessage(
  buf: Buffer,
  fields: MessageTable,
  keepZero = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const wire of readWireFields(buf)) {
    const spec = fields[wire.field];
    if (!spec) continue;
    const value = decodeValue(spec, wire);
    if (typeof spec.of === 'object' && 'map' in spec.of && typeof spec.of.map === 'string') {
      const [key, entry] = value as [string, unknown];
      out[spec.name] = { ...(out[spec.name] as object | undefined), [key]: entry };
    } else if (spec.repeated) {
      out[spec.name] = [...((out[spec.name] as unknown[] | undefined) ?? []), value];
    } else if (keepZero || spec.pointer || !isEmpty(value)) {
      if (value !== undefined) out[spec.name] = value;
    }
  }
  return out;
}
