/**
 * RFC 6902 JSON Patch on plain JSON values. Pure: returns a new document and leaves the input alone.
 * Failures throw {@link PatchError} with messages close to the ones kube-apiserver relays.
 */

export class PatchError extends Error {
  override name = 'PatchError';
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

type Container = Record<string, unknown> | unknown[];

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function arrayIndex(list: unknown[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index "${token}"`);
  const index = Number(token);
  const max = forAdd ? list.length : list.length - 1;
  if (index > max) throw new PatchError(`array index ${index} out of bounds`);
  return index;
}

/** The container holding the last token of `path`, plus that token. */
function parentOf(doc: unknown, path: string): { parent: Container; token: string } {
  const tokens = parsePointer(path);
  const token = tokens.pop();
  if (token === undefined) throw new PatchError('the root cannot be the target of this operation');
  let node: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false)];
    else if (isContainer(node) && Object.prototype.hasOwnProperty.call(node, t)) {
      node = (node as Record<string, unknown>)[t];
    } else throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  if (!isContainer(node)) throw new PatchError(`doc is missing path: "${path}": missing value`);
  return { parent: node, token };
}

function read(doc: unknown, path: string): unknown {
  if (path === '') return doc;
  const { parent, token } = parentOf(doc, path);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, token, false)];
  if (!Object.prototype.hasOwnProperty.call(parent, token)) {
    throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  return parent[token];
}

function add(doc: unknown, path: string, value: unknown): unknown {
  if (path === '') return value;
  const { parent, token } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true), 0, value);
  else parent[token] = value;
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, token } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(parent, token, false), 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, token)) {
      throw new PatchError(`Unable to remove nonexistent key: ${token}: missing value`);
    }
    delete parent[token];
  }
  return doc;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isContainer(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

function applyOne(doc: unknown, op: JsonPatchOperation): unknown {
  switch (op.op) {
    case 'add':
      return add(doc, op.path, structuredClone(op.value));
    case 'remove':
      return remove(doc, op.path);
    case 'replace':
      read(doc, op.path);
      if (op.path === '') return structuredClone(op.value);
      return add(remove(doc, op.path), op.path, structuredClone(op.value));
    case 'move': {
      const value = read(doc, op.from ?? '');
      return add(remove(doc, op.from ?? ''), op.path, value);
    }
    case 'copy':
      return add(doc, op.path, structuredClone(read(doc, op.from ?? '')));
    case 'test':
      if (!sameJson(read(doc, op.path), op.value)) {
        throw new PatchError(`testing value ${op.path} failed: test failed`);
      }
      return doc;
    default:
      throw new PatchError(`Unexpected kind: ${String((op as { op: unknown }).op)}`);
  }
}

/** Applies the operations in order; all or nothing. */
export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  let doc = structuredClone(document);
  for (const op of patch as JsonPatchOperation[]) {
    if (!isContainer(op) || typeof op.path !== 'string') {
      throw new PatchError('invalid JSON Patch operation');
    }
    doc = applyOne(doc, op);
  }
  return doc;
}
