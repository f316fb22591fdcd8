import { describe, expect, it } from 'vitest';
import { applyJsonPatch, PatchError } from './json-patch.js';

const doc = { spec: { replicas: 1, list: ['a', 'b'], 'a/b': 1, 'm~n': 2 } };

describe('JSON Patch (RFC 6902)', () => {
  it.each([
    [[{ op: 'replace', path: '/spec/replicas', value: 3 }], { spec: { ...doc.spec, replicas: 3 } }],
    [[{ op: 'add', path: '/spec/new', value: { x: 1 } }], { spec: { ...doc.spec, new: { x: 1 } } }],
    [
      [{ op: 'add', path: '/spec/list/-', value: 'c' }],
      { spec: { ...doc.spec, list: ['a', 'b', 'c'] } },
    ],
    [
      [{ op: 'add', path: '/spec/list/0', value: 'z' }],
      { spec: { ...doc.spec, list: ['z', 'a', 'b'] } },
    ],
    [[{ op: 'remove', path: '/spec/list/0' }], { spec: { ...doc.spec, list: ['b'] } }],
    [[{ op: 'remove', path: '/spec/a~1b' }], { spec: { replicas: 1, list: ['a', 'b'], 'm~n': 2 } }],
    [[{ op: 'replace', path: '/spec/m~0n', value: 5 }], { spec: { ...doc.spec, 'm~n': 5 } }],
    [
      [{ op: 'move', from: '/spec/replicas', path: '/spec/count' }],
      { spec: { list: ['a', 'b'], 'a/b': 1, 'm~n': 2, count: 1 } },
    ],
    [
      [{ op: 'copy', from: '/spec/replicas', path: '/spec/count' }],
      { spec: { ...doc.spec, count: 1 } },
    ],
    [
      [
        { op: 'test', path: '/spec/replicas', value: 1 },
        { op: 'replace', path: '/spec/replicas', value: 2 },
      ],
      { spec: { ...doc.spec, replicas: 2 } },
    ],
  ])('%j', (patch, expected) => {
    expect(applyJsonPatch(doc, patch)).toEqual(expected);
  });

  it.each([
    [[{ op: 'test', path: '/spec/replicas', value: 2 }]],
    [[{ op: 'replace', path: '/spec/missing', value: 2 }]],
    [[{ op: 'remove', path: '/nope/x' }]],
    [[{ op: 'add', path: '/spec/list/9', value: 1 }]],
    [{ op: 'add' }],
  ])('%j fails', (patch) => {
    expect(() => applyJsonPatch(doc, patch)).toThrow(PatchError);
  });

  it('leaves the input untouched', () => {
    const input = { a: [1] };
    applyJsonPatch(input, [{ op: 'add', path: '/a/-', value: 2 }]);
    expect(input).toEqual({ a: [1] });
  });
});
