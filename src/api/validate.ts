import type { z } from 'zod';
import {
  ContainerVersionSpecSchema,
  ContainerVersionStatusSchema,
  type ContainerVersionSpec,
  type ContainerVersionStatus,
} from './container-version.js';

/** One problem with one field, named by its path from the object root (`spec.policy.maxSeverity`). */
export interface FieldError {
  field: string;
  message: string;
}

export type Validation<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      errors: FieldError[];
      /** All errors in one line, each naming its field. */ message: string;
    };

/** `spec.verify[0].name` from a Zod issue path. */
export function fieldPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    root,
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined'))
    return 'required';
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
  return issue.message;
}

function validateWith<T>(schema: z.ZodType<T>, root: string, input: unknown): Validation<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const errors = result.error.issues.map((issue) => ({
    field: fieldPath(root, issue.path),
    message: describeIssue(issue),
  }));
  return { ok: false, errors, message: errors.map((e) => `${e.field}: ${e.message}`).join('; ') };
}

/**
 * Validates a ContainerVersion spec and applies its defaults. Never throws: an invalid spec is
 * reported field by field, for the `InvalidSpec` condition and for people.
 */
export function validateSpec(input: unknown): Validation<ContainerVersionSpec> {
  return validateWith(ContainerVersionSpecSchema, 'spec', input);
}

/** Validates a ContainerVersion status (as written by cvm and read back). */
export function validateStatus(input: unknown): Validation<ContainerVersionStatus> {
  return validateWith(ContainerVersionStatusSchema, 'status', input);
}
