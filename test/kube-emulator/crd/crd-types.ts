import type { KubeObject } from '../contract.js';
import type { FieldError, PrinterColumn, ResourceType } from '../resources/resource-type.js';
import { pruneAndDefault, validateSchema, type StructuralSchema } from './schema-validation.js';

export interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: StructuralSchema };
  additionalPrinterColumns?: PrinterColumn[];
  subresources?: {
    status?: object;
    scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  };
}

export interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: {
    plural: string;
    singular?: string;
    kind: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  versions: CrdVersion[];
}

/** The version a CRD's resources are served and stored at: the storage version. */
export function servedVersion(spec: CrdSpec): CrdVersion | undefined {
  return spec.versions.find((v) => v.storage) ?? spec.versions.find((v) => v.served !== false);
}

/** The ResourceType a CustomResourceDefinition serves, with its schema's defaults and validation. */
export function customResourceType(crd: KubeObject): ResourceType | undefined {
  const spec = crd.spec as CrdSpec | undefined;
  if (!spec) return undefined;
  const version = servedVersion(spec);
  if (!version) return undefined;
  const schema = version.schema?.openAPIV3Schema;
  const scale = version.subresources?.scale;
  return {
    group: spec.group,
    version: version.name,
    plural: spec.names.plural,
    kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    singularName: spec.names.singular ?? spec.names.kind.toLowerCase(),
    namespaced: spec.scope !== 'Cluster',
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    status: version.subresources?.status !== undefined,
    ...(scale ? { scale } : {}),
    generation: true,
    custom: true,
    ...(version.additionalPrinterColumns
      ? { printerColumns: version.additionalPrinterColumns }
      : {}),
    ...(schema
      ? {
          defaults: (object: KubeObject): string[] => {
            const pruned: string[] = [];
            pruneAndDefault(object, schema, true, pruned);
            return pruned;
          },
          validate: (object: KubeObject): FieldError[] => validateSchema(object, schema),
        }
      : {}),
  };
}

const required = (field: string): FieldError => ({
  reason: 'FieldValueRequired',
  field,
  message: 'Required value',
});

/** The checks kube-apiserver makes on a CustomResourceDefinition that matter to the emulator. */
export function validateCrd(crd: KubeObject): FieldError[] {
  const spec = crd.spec as Partial<CrdSpec> | undefined;
  const errors: FieldError[] = [];
  if (!spec?.group) errors.push(required('spec.group'));
  if (!spec?.names?.plural) errors.push(required('spec.names.plural'));
  if (!spec?.names?.kind) errors.push(required('spec.names.kind'));
  if (spec?.scope !== 'Namespaced' && spec?.scope !== 'Cluster') {
    errors.push({
      reason: 'FieldValueNotSupported',
      field: 'spec.scope',
      message: `Unsupported value: "${String(spec?.scope ?? '')}": supported values: "Cluster", "Namespaced"`,
    });
  }
  const versions = spec?.versions ?? [];
  if (versions.length === 0) errors.push(required('spec.versions'));
  else if (versions.filter((v) => v.storage).length !== 1) {
    errors.push({
      reason: 'FieldValueInvalid',
      field: 'spec.versions',
      message: `Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version`,
    });
  }
  const expected = `${spec?.names?.plural ?? ''}.${spec?.group ?? ''}`;
  if (spec?.group && spec.names?.plural && crd.metadata.name !== expected) {
    errors.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${crd.metadata.name ?? ''}": must be spec.names.plural+"."+spec.group`,
    });
  }
  return errors;
}

/** Defaults kube-apiserver fills on a CustomResourceDefinition. */
export function defaultCrd(crd: KubeObject): void {
  const spec = crd.spec as (Partial<CrdSpec> & { conversion?: unknown }) | undefined;
  if (!spec?.names?.kind) return;
  spec.names.singular ??= spec.names.kind.toLowerCase();
  spec.names.listKind ??= `${spec.names.kind}List`;
  spec.conversion ??= { strategy: 'None' };
}
