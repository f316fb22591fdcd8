import type { KubeObject } from '../contract.js';
import { groupVersion, resourceName, type ResourceType } from '../resources/resource-type.js';
import {
  configMapPrinter,
  defaultPrinter,
  leasePrinter,
  namespacePrinter,
  nodePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core-printers.js';
import { customPrinter } from './custom-printer.js';
import { endpointsPrinter } from './endpoints-printer.js';
import { eventPrinter } from './event-printer.js';
import { podPrinter } from './pod-printer.js';
import type { TableRequest } from './table-request.js';
import type { TablePrinter } from './table-printer.js';
import {
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './workload-printers.js';

const builtinPrinters: Record<string, TablePrinter> = {
  pods: podPrinter,
  services: servicePrinter,
  endpoints: endpointsPrinter,
  configmaps: configMapPrinter,
  secrets: secretPrinter,
  serviceaccounts: serviceAccountPrinter,
  namespaces: namespacePrinter,
  nodes: nodePrinter,
  events: eventPrinter,
  'events.events.k8s.io': eventPrinter,
  'deployments.apps': deploymentPrinter,
  'replicasets.apps': replicaSetPrinter,
  'statefulsets.apps': statefulSetPrinter,
  'daemonsets.apps': daemonSetPrinter,
  'jobs.batch': jobPrinter,
  'cronjobs.batch': cronJobPrinter,
  'leases.coordination.k8s.io': leasePrinter,
};

/** The printer kube-apiserver uses for a resource: its own, the CRD's columns, or NAME/CREATED AT. */
export function printerFor(type: ResourceType): TablePrinter {
  if (type.custom) return customPrinter(type.printerColumns);
  return builtinPrinters[resourceName(type)] ?? defaultPrinter;
}

function rowObject(object: KubeObject, request: TableRequest): unknown {
  switch (request.includeObject) {
    case 'None':
      return null;
    case 'Object':
      return object;
    case 'Metadata':
      return {
        kind: 'PartialObjectMetadata',
        apiVersion: `meta.k8s.io/${request.version}`,
        metadata: object.metadata,
      };
  }
}

export interface TableOptions {
  /** Emulated now, for AGE cells. */
  nowMs: number;
  /** Omit the column definitions (watch events after the first, as kube-apiserver does). */
  withoutColumns?: boolean;
}

/**
 * A `meta.k8s.io` Table of objects (apiVersion and kind filled in) with the list's metadata
 * (`resourceVersion`, `continue`, `remainingItemCount`), or of one object with its
 * resourceVersion.
 */
export function toTable(
  printer: TablePrinter,
  objects: KubeObject[],
  metadata: Record<string, unknown>,
  request: TableRequest,
  options: TableOptions,
): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${request.version}`,
    metadata,
    columnDefinitions: options.withoutColumns ? null : printer.columns,
    rows: objects.map((object) => {
      const conditions = printer.conditions?.(object);
      return {
        cells: printer.cells(object, options.nowMs),
        ...(conditions ? { conditions } : {}),
        object: rowObject(object, request),
      };
    }),
  };
}

function withTypeMeta(type: ResourceType, object: KubeObject): KubeObject {
  return { ...object, apiVersion: groupVersion(type), kind: type.kind };
}

/** A GET's answer (one object or a list) as the Table `request` asks for. */
export function answerAsTable(
  type: ResourceType,
  body: KubeObject,
  request: TableRequest,
  nowMs: number,
): Record<string, unknown> {
  const printer = printerFor(type);
  if (Array.isArray(body.items)) {
    const items = (body.items as KubeObject[]).map((o) => withTypeMeta(type, o));
    return toTable(printer, items, body.metadata, request, { nowMs });
  }
  const metadata = { resourceVersion: body.metadata.resourceVersion };
  return toTable(printer, [withTypeMeta(type, body)], metadata, request, { nowMs });
}

/** Watch events' objects as Tables of one row; only the first carries the column definitions. */
export function watchTablePresenter(
  type: ResourceType,
  request: TableRequest,
  now: () => number,
): (object: KubeObject) => KubeObject {
  const printer = printerFor(type);
  let first = true;
  return (object) => {
    const table = toTable(
      printer,
      [withTypeMeta(type, object)],
      { resourceVersion: object.metadata.resourceVersion },
      request,
      { nowMs: now(), withoutColumns: !first },
    );
    first = false;
    return table as unknown as KubeObject;
  };
}
