/**
 * Kubernetes label selectors: the string form (`app=web,tier in (a,b),!canary`) parsed into
 * requirements, and the object form (`matchLabels`/`matchExpressions`) converted to the same.
 * Pure functions; parse failures throw {@link LabelSelectorError}.
 */

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

export class LabelSelectorError extends Error {
  override name = 'LabelSelectorError';
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const keyPattern =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const valuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim());
}

function checkKey(key: string, term: string): string {
  if (!keyPattern.test(key) || key.length > 316) {
    throw new LabelSelectorError(
      `unable to parse requirement: invalid label key "${key}" in "${term}"`,
    );
  }
  return key;
}

function checkValue(value: string, term: string): string {
  if (!valuePattern.test(value) || value.length > 63) {
    throw new LabelSelectorError(
      `unable to parse requirement: invalid label value "${value}" in "${term}"`,
    );
  }
  return value;
}

function parseTerm(term: string): Requirement {
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (setMatch) {
    const [, key = '', op, list = ''] = setMatch;
    const values = list
      .split(',')
      .map((v) => v.trim())
      .filter((v, i, all) => v !== '' || all.length === 1);
    return {
      key: checkKey(key, term),
      operator: op === 'in' ? 'In' : 'NotIn',
      values: values.map((v) => checkValue(v, term)),
    };
  }
  const opMatch = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (opMatch) {
    const [, key = '', op, value = ''] = opMatch;
    return {
      key: checkKey(key, term),
      operator: op === '!=' ? 'NotIn' : 'In',
      values: [checkValue(value, term)],
    };
  }
  if (term.startsWith('!')) {
    return { key: checkKey(term.slice(1).trim(), term), operator: 'DoesNotExist', values: [] };
  }
  if (/^\S+$/.test(term)) return { key: checkKey(term, term), operator: 'Exists', values: [] };
  throw new LabelSelectorError(`unable to parse requirement: found '${term}', expected: selector`);
}

/** Parses a selector string; the empty string selects everything. */
export function parseLabelSelector(selector: string): Requirement[] {
  if (selector.trim() === '') return [];
  return splitTerms(selector).map((term) => {
    if (term === '') throw new LabelSelectorError(`found '', expected: identifier`);
    return parseTerm(term);
  });
}

/** Converts the object form used in workload specs; an empty object selects everything. */
export function requirementsFromObject(selector: LabelSelectorObject): Requirement[] {
  const fromLabels = Object.entries(selector.matchLabels ?? {}).map(
    ([key, value]): Requirement => ({ key, operator: 'In', values: [value] }),
  );
  const fromExpressions = (selector.matchExpressions ?? []).map((e): Requirement => {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) {
      throw new LabelSelectorError(`"${e.operator}" is not a valid label selector operator`);
    }
    return { key: e.key, operator: e.operator as SelectorOperator, values: e.values ?? [] };
  });
  return [...fromLabels, ...fromExpressions];
}

/** True when the labels satisfy every requirement. */
export function matchesRequirements(
  requirements: readonly Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const all = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(all, r.key);
    const value = all[r.key];
    switch (r.operator) {
      case 'In':
        return has && value !== undefined && r.values.includes(value);
      case 'NotIn':
        return !has || value === undefined || !r.values.includes(value);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

/** Parses and matches in one step. */
export function matchesLabelSelector(
  selector: string,
  labels: Record<string, string> | undefined,
): boolean {
  return matchesRequirements(parseLabelSelector(selector), labels);
}

/** The string form of an object selector, as kubectl prints it (`app=web,tier in (a,b)`). */
export function labelSelectorToString(selector: LabelSelectorObject): string {
  return requirementsFromObject(selector)
    .map((r) => {
      switch (r.operator) {
        case 'In':
          return r.values.length === 1
            ? `${r.key}=${r.values[0]}`
            : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
    })
    .join(',');
}
