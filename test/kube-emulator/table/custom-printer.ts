import type { KubeObject } from '../contract.js';
import type { PrinterColumn } from '../resources/resource-type.js';
import { ageSince } from './human-duration.js';
import { evaluateJsonPath, parseJsonPath } from './json-path.js';
import {
  column,
  creationTimestampDescription,
  nameColumn,
  type Cell,
  type TablePrinter,
} from './table-printer.js';

/** What apiextensions-apiserver serves when a CRD declares no columns. */
const defaultColumns: PrinterColumn[] = [
  {
    name: 'Age',
    type: 'date',
    jsonPath: '.metadata.creationTimestamp',
    description: creationTimestampDescription,
  },
];

/** `cellForJSONValue` of the CRD table convertor: typed cells, `null` when absent or mistyped. */
function cell(type: string, value: unknown, nowMs: number): Cell {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? ageSince(value, nowMs) : null;
    default:
      return null;
  }
}

/**
 * The table of a custom resource, as apiextensions-apiserver's table convertor builds it: a NAME
 * column, then the CRD's `additionalPrinterColumns` (JSONPath; only the first value found), or
 * AGE when it declares none.
 */
export function customPrinter(declared: PrinterColumn[] | undefined): TablePrinter {
  const columns = declared && declared.length > 0 ? declared : defaultColumns;
  const paths = columns.map((c) => {
    try {
      return parseJsonPath(c.jsonPath);
    } catch {
      return undefined;
    }
  });
  return {
    columns: [
      nameColumn,
      ...columns.map((c) => ({
        ...column(c.name, c.description ?? '', { type: c.type, format: c.format ?? '' }),
        priority: c.priority ?? 0,
      })),
    ],
    cells: (object: KubeObject, nowMs: number): Cell[] => [
      object.metadata.name ?? '',
      ...columns.map((c, i) => {
        const path = paths[i];
        const found = path ? evaluateJsonPath(path, object) : [];
        return cell(c.type, found[0], nowMs);
      }),
    ],
  };
}
