import type { KubeObject } from './contract.js';
import { badRequest } from './status-errors.js';

export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

/** Parses `metadata.name=x,status.phase!=Running`; any dotted field path is accepted. */
export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  if (!selector) return [];
  return selector.split(',').map((term) => {
    const match = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field = '', op, value = ''] = match;
    return { field, equal: op !== '!=', value };
  });
}

function fieldValue(object: KubeObject, field: string): string {
  let node: unknown = object;
  for (const part of field.split('.')) {
    if (typeof node !== 'object' || node === null) return '';
    node = (node as Record<string, unknown>)[part];
  }
  if (node === undefined || node === null) return '';
  return typeof node === 'string' ? node : JSON.stringify(node);
}

export function matchesFields(
  requirements: readonly FieldRequirement[],
  object: KubeObject,
): boolean {
  return requirements.every((r) => (fieldValue(object, r.field) === r.value) === r.equal);
}
