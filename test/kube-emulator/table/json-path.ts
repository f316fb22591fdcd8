type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: Step[]; op: '==' | '!='; value: string };

/** Thrown for a path outside the subset CRD printer columns use. */
export class JsonPathError extends Error {}

function readField(path: string, start: number): [name: string, end: number] {
  let name = '';
  let i = start;
  while (i < path.length && path[i] !== '.' && path[i] !== '[') {
    if (path[i] === '\\' && i + 1 < path.length) i++;
    name += path[i];
    i++;
  }
  return [name, i];
}

function parseFilter(body: string): Step {
  const match = /^\?\(@((?:\.[^=!]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([^)\s]+))\)$/.exec(body);
  if (!match) throw new JsonPathError(`unsupported filter [${body}]`);
  return {
    kind: 'filter',
    path: parseJsonPath(match[1] ?? ''),
    op: match[2] as '==' | '!=',
    value: match[3] ?? match[4] ?? match[5] ?? '',
  };
}

function parseBracket(body: string): Step {
  if (body === '*') return { kind: 'all' };
  if (/^-?\d+$/.test(body)) return { kind: 'index', index: Number(body) };
  const quoted = /^(?:'([^']*)'|"([^"]*)")$/.exec(body);
  if (quoted) return { kind: 'field', name: quoted[1] ?? quoted[2] ?? '' };
  return parseFilter(body);
}

/**
 * Parses the JSONPath subset of CRD `additionalPrinterColumns` (k8s.io/client-go/util/jsonpath):
 * `.a.b`, `.a[0]`, `.a[*].b`, `.a['b.c']`, `.a\.b`, `.a[?(@.type=="Ready")].status`.
 */
export function parseJsonPath(path: string): Step[] {
  const text = path
    .trim()
    .replace(/^\{(.*)\}$/, '$1')
    .replace(/^\$/, '');
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '.') {
      const [name, end] = readField(text, i + 1);
      if (name !== '') steps.push({ kind: 'field', name });
      i = end;
    } else if (text[i] === '[') {
      const close = text.indexOf(']', text[i + 1] === '?' ? text.indexOf(')', i) : i);
      if (close < 0) throw new JsonPathError(`unclosed [ in ${path}`);
      steps.push(parseBracket(text.slice(i + 1, close)));
      i = close + 1;
    } else {
      throw new JsonPathError(`unexpected ${text[i] ?? ''} in ${path}`);
    }
  }
  return steps;
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function apply(step: Step, value: unknown): unknown[] {
  if (value === null || typeof value !== 'object') return [];
  switch (step.kind) {
    case 'field': {
      const next = (value as Record<string, unknown>)[step.name];
      return next === undefined ? [] : [next];
    }
    case 'index': {
      if (!Array.isArray(value)) return [];
      const next: unknown = value[step.index < 0 ? value.length + step.index : step.index];
      return next === undefined ? [] : [next];
    }
    case 'all':
      return Array.isArray(value) ? value : Object.values(value);
    case 'filter': {
      const items: unknown[] = Array.isArray(value) ? value : [];
      return items.filter((item) => {
        const found = evaluateJsonPath(step.path, item);
        const equal = found.length > 0 && textOf(found[0]) === step.value;
        return step.op === '==' ? equal : found.length > 0 && !equal;
      });
    }
  }
}

/** Every value the parsed path finds in `root`, in order. */
export function evaluateJsonPath(steps: Step[], root: unknown): unknown[] {
  return steps.reduce<unknown[]>((values, step) => values.flatMap((v) => apply(step, v)), [root]);
}
