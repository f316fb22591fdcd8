import type { KubeObject } from '../contract.js';

/** A `metav1.TableColumnDefinition`. */
export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  /** 0: always shown; 1: only with `kubectl get -o wide`. */
  priority: number;
}

export type Cell = string | number | boolean | null;

/** A `metav1.TableRowCondition` (kube-apiserver marks finished Pods `Completed`). */
export interface RowCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/**
 * Server-side printing of one kind, as pkg/printers/internalversion/printers.go does it: the column
 * definitions and, for one object, every cell (kube-apiserver always generates the wide cells;
 * kubectl hides priority-1 columns unless `-o wide`).
 */
export interface TablePrinter {
  columns: TableColumn[];
  cells(object: KubeObject, nowMs: number): Cell[];
  conditions?(object: KubeObject): RowCondition[] | undefined;
}

/** ObjectMeta's swagger text for `name`, as every Name column carries it. */
export const nameDescription =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

/** ObjectMeta's swagger text for `creationTimestamp`, as every Age column carries it. */
export const creationTimestampDescription =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** A column definition; `wide` columns get priority 1. */
export function column(
  name: string,
  description: string,
  options: { type?: string; format?: string; wide?: boolean } = {},
): TableColumn {
  return {
    name,
    type: options.type ?? 'string',
    format: options.format ?? '',
    description,
    priority: options.wide ? 1 : 0,
  };
}

export const nameColumn = column('Name', nameDescription, { format: 'name' });
export const ageColumn = column('Age', creationTimestampDescription);
export const containersColumn = column('Containers', 'Names of each container in the template.', {
  wide: true,
});
export const imagesColumn = column(
  'Images',
  'Images referenced by each container in the template.',
  {
    wide: true,
  },
);

interface Container {
  name?: string;
  image?: string;
}

/** `layoutContainerCells`: container names and images, comma-separated. */
export function containerCells(podSpec: unknown): [names: string, images: string] {
  const containers = (podSpec as { containers?: Container[] } | undefined)?.containers ?? [];
  return [
    containers.map((c) => c.name ?? '').join(','),
    containers.map((c) => c.image ?? '').join(','),
  ];
}

/** A number from a status or spec field; 0 when absent, as Go's zero value. */
export function int(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}
