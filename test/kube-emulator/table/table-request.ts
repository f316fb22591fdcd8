import { badRequest } from '../status-errors.js';

export type TableVersion = 'v1' | 'v1beta1';
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A request for `meta.k8s.io` Table output (kubectl get's human-readable printing). */
export interface TableRequest {
  version: TableVersion;
  includeObject: IncludeObject;
}

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((range) => {
      const [type = '', ...params] = range.split(';').map((p) => p.trim());
      return {
        type: type.toLowerCase(),
        params: new Map(
          params.map((p) => {
            const eq = p.indexOf('=');
            return [
              p.slice(0, eq).trim(),
              p
                .slice(eq + 1)
                .trim()
                .replace(/^"|"$/g, ''),
            ];
          }),
        ),
      };
    })
    .filter((r) => r.type !== '');
}

const plain = new Set(['application/json', 'application/*', '*/*']);

/**
 * The Table the `Accept` header asks for, honouring its order as kube-apiserver does:
 * `application/json;as=Table;v=v1;g=meta.k8s.io` (or v1beta1) before any plain JSON range means a
 * Table; a plain range first (or no header) means the object itself. `includeObject` (None,
 * Metadata — the default — or Object) says what each row carries; any other value is 400.
 */
export function tableRequest(
  accept: string | undefined,
  query: URLSearchParams,
): TableRequest | undefined {
  for (const range of parseAccept(accept ?? '')) {
    const as = range.params.get('as');
    if (as === undefined) {
      if (plain.has(range.type)) return undefined;
      continue;
    }
    const version = range.params.get('v');
    if (
      as === 'Table' &&
      range.params.get('g') === 'meta.k8s.io' &&
      (version === 'v1' || version === 'v1beta1') &&
      (range.type === 'application/json' || range.type === '*/*')
    ) {
      const includeObject = query.get('includeObject') ?? 'Metadata';
      if (includeObject !== 'None' && includeObject !== 'Metadata' && includeObject !== 'Object') {
        throw badRequest(`unrecognized includeObject value: "${includeObject}"`);
      }
      return { version, includeObject };
    }
  }
  return undefined;
}
