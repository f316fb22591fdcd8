import type { FieldError } from '../resources/resource-type.js';

/** The parts of a structural OpenAPI v3 schema the emulator understands. */
export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  required?: string[];
  items?: StructuralSchema;
  additionalProperties?: boolean | StructuralSchema;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fields a custom resource always keeps at its root, whatever the schema says. */
const rootFields = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Applies `default`s and prunes unknown fields in place, as kube-apiserver does for a custom
 * resource: unknown fields go unless `x-kubernetes-preserve-unknown-fields` is set or
 * `additionalProperties` describes them; nulls in non-nullable fields are dropped.
 */
export function pruneAndDefault(
  value: unknown,
  schema: StructuralSchema,
  root = true,
  pruned: string[] = [],
  path = '',
): unknown {
  const join = (key: string): string => (path === '' ? key : `${path}.${key}`);
  if (Array.isArray(value)) {
    if (schema.items)
      value.forEach(
        (item, i) =>
          (value[i] = pruneAndDefault(item, schema.items ?? {}, false, pruned, `${path}[${i}]`)),
      );
    return value;
  }
  if (!isObject(value)) return value;
  const properties = schema.properties ?? {};
  for (const [key, propertySchema] of Object.entries(properties)) {
    if (
      (value[key] === undefined || (value[key] === null && !propertySchema.nullable)) &&
      propertySchema.default !== undefined
    ) {
      value[key] = structuredClone(propertySchema.default);
    }
  }
  for (const key of Object.keys(value)) {
    if (root && rootFields.has(key)) continue;
    const propertySchema = properties[key];
    const child = value[key];
    if (propertySchema) {
      if (child === null && !propertySchema.nullable) delete value[key];
      else value[key] = pruneAndDefault(child, propertySchema, false, pruned, join(key));
    } else if (isObject(schema.additionalProperties)) {
      value[key] = pruneAndDefault(child, schema.additionalProperties, false, pruned, join(key));
    } else if (
      !schema['x-kubernetes-preserve-unknown-fields'] &&
      schema.additionalProperties !== true
    ) {
      pruned.push(join(key));
      delete value[key];
    }
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function quote(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value)
    : (JSON.stringify(value) ?? String(value));
}

function typeMatches(type: string | undefined, value: unknown, schema: StructuralSchema): boolean {
  if (schema['x-kubernetes-int-or-string'])
    return typeof value === 'string' || Number.isInteger(value);
  switch (type) {
    case undefined:
      return true;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    default:
      return typeof value === type;
  }
}

function scalarErrors(value: unknown, schema: StructuralSchema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const invalid = (message: string): void => {
    errors.push({
      reason: 'FieldValueInvalid',
      field: path,
      message: `Invalid value: ${quote(value)}: ${path} in body ${message}`,
    });
  };
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push({
      reason: 'FieldValueNotSupported',
      field: path,
      message: `Unsupported value: ${quote(value)}: supported values: ${schema.enum.map(quote).join(', ')}`,
    });
  }
  if (typeof value === 'string') {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      invalid(`should match '${schema.pattern}'`);
    if (schema.minLength !== undefined && [...value].length < schema.minLength)
      invalid(`should be at least ${schema.minLength} chars long`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength)
      invalid(`should be at most ${schema.maxLength} chars long`);
  }
  if (typeof value === 'number') {
    if (
      schema.minimum !== undefined &&
      (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)
    ) {
      invalid(
        `should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`,
      );
    }
    if (
      schema.maximum !== undefined &&
      (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)
    ) {
      invalid(
        `should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`,
      );
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      invalid(`should have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      invalid(`should have at most ${schema.maxItems} items`);
  }
  return errors;
}

/**
 * Validates a value against a structural schema; errors carry Kubernetes field paths
 * (`spec.containers[0].name`) and kube-apiserver's wording.
 */
export function validateSchema(value: unknown, schema: StructuralSchema, path = ''): FieldError[] {
  if (value === null && schema.nullable) return [];
  if (!typeMatches(schema.type, value, schema)) {
    const actual = typeName(value);
    return [
      {
        reason: 'FieldValueTypeInvalid',
        field: path,
        message: `Invalid value: "${actual}": ${path} in body must be of type ${schema['x-kubernetes-int-or-string'] ? 'integer,string' : (schema.type ?? 'unknown')}: "${actual}"`,
      },
    ];
  }
  const errors = scalarErrors(value, schema, path);
  const join = (key: string): string => (path === '' ? key : `${path}.${key}`);
  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined || value[key] === null) {
        errors.push({ reason: 'FieldValueRequired', field: join(key), message: 'Required value' });
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (path === '' && rootFields.has(key)) continue;
      const childSchema =
        schema.properties?.[key] ??
        (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (childSchema && child !== undefined)
        errors.push(...validateSchema(child, childSchema, join(key)));
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) =>
      errors.push(...validateSchema(item, schema.items ?? {}, `${path}[${i}]`)),
    );
  }
  return errors;
}
