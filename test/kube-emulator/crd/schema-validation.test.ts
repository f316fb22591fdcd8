import { describe, expect, it } from 'vitest';
import { pruneAndDefault, validateSchema, type StructuralSchema } from './schema-validation.js';

const schema: StructuralSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['tag'],
      properties: {
        tag: { type: 'string', pattern: '^v', minLength: 2, maxLength: 5 },
        replicas: { type: 'integer', minimum: 1, maximum: 3, default: 1 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
        mode: { type: 'string', enum: ['a', 'b'] },
        port: { 'x-kubernetes-int-or-string': true },
        items: {
          type: 'array',
          maxItems: 1,
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        note: { type: 'string', nullable: true },
      },
    },
  },
};

const errorsOf = (spec: Record<string, unknown>): string[] =>
  validateSchema({ apiVersion: 'x/v1', kind: 'X', metadata: {}, spec }, schema).map(
    (e) => `${e.field}: ${e.message}`,
  );

describe('structural schema validation', () => {
  it.each([
    [{ tag: 'v1' }, []],
    [{}, ['spec.tag: Required value']],
    [{ tag: 'x1' }, [`spec.tag: Invalid value: "x1": spec.tag in body should match '^v'`]],
    [
      { tag: 'v' },
      ['spec.tag: Invalid value: "v": spec.tag in body should be at least 2 chars long'],
    ],
    [
      { tag: 'v12345' },
      ['spec.tag: Invalid value: "v12345": spec.tag in body should be at most 5 chars long'],
    ],
    [
      { tag: 'v1', replicas: 0 },
      [
        'spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
      ],
    ],
    [
      { tag: 'v1', replicas: 4 },
      ['spec.replicas: Invalid value: 4: spec.replicas in body should be less than or equal to 3'],
    ],
    [
      { tag: 'v1', replicas: 1.5 },
      [
        'spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"',
      ],
    ],
    [
      { tag: 'v1', ratio: 0 },
      ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0'],
    ],
    [{ tag: 'v1', mode: 'c' }, ['spec.mode: Unsupported value: "c": supported values: "a", "b"']],
    [{ tag: 'v1', port: 'http' }, []],
    [
      { tag: 'v1', port: true },
      [
        'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
      ],
    ],
    [{ tag: 'v1', items: [{}] }, ['spec.items[0].name: Required value']],
    [
      { tag: 'v1', items: [{ name: 'a' }, { name: 'b' }] },
      [
        'spec.items: Invalid value: [{"name":"a"},{"name":"b"}]: spec.items in body should have at most 1 items',
      ],
    ],
    [
      { tag: 'v1', labels: { a: 1 } },
      [
        'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
      ],
    ],
    [{ tag: 'v1', note: null }, []],
    [
      { tag: 3 },
      ['spec.tag: Invalid value: "integer": spec.tag in body must be of type string: "integer"'],
    ],
  ])('%j → %j', (spec, expected) => {
    expect(errorsOf(spec)).toEqual(expected);
  });

  it('prunes unknown fields, keeps preserved ones, fills defaults and reports what it pruned', () => {
    const object = {
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'a', anything: 1 },
      spec: { tag: 'v1', unknown: 1, free: { any: { deep: true } }, labels: { a: 'b' } },
      extra: true,
    };
    const pruned: string[] = [];
    pruneAndDefault(object, schema, true, pruned);
    expect(object).toEqual({
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'a', anything: 1 },
      spec: { tag: 'v1', replicas: 1, free: { any: { deep: true } }, labels: { a: 'b' } },
    });
    expect(pruned).toEqual(['spec.unknown', 'extra']);
  });
});
