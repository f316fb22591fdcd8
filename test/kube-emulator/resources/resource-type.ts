import type { KubeObject } from '../contract.js';

/** Where a `/scale` subresource reads and writes replicas (dot paths as in a CRD's `scale`). */
export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** What the emulator knows about one served resource (one group/version/plural). */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  listKind: string;
  singularName: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  storageVersionHash?: string;
  /** Serves `/status`; writes through the main resource keep the stored status. */
  status: boolean;
  scale?: ScaleSubresource;
  /** Maintains `metadata.generation` (workloads, CRDs, custom resources). */
  generation: boolean;
  /** Fills defaults in place on create and update (after patches); returns the paths it pruned. */
  defaults?: (object: KubeObject) => string[] | void;
  /** Returns field errors (`spec.tag: Required value`) for a 422 Invalid; empty when valid. */
  validate?: (object: KubeObject) => FieldError[];
  /** A CustomResourceDefinition's resource: strategic merge patch answers 415. */
  custom: boolean;
  /** A custom resource's `additionalPrinterColumns` (server-side printing for `kubectl get`). */
  printerColumns?: PrinterColumn[];
}

/** One entry of a CRD version's `additionalPrinterColumns`. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

export interface FieldError {
  /** `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueTypeInvalid`… */
  reason: string;
  field: string;
  message: string;
}

/** The contract's ResourceName: `plural` for the core group, `plural.group` otherwise. */
export function resourceName(type: Pick<ResourceType, 'plural' | 'group'>): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

/** `apps/v1` or `v1`. */
export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}
