import { StatusError } from './contract.js';
import type { FieldError } from './resources/resource-type.js';

/** Identifies a resource in Status details and messages: `deployments.apps`, `configmaps`. */
export interface ResourceRef {
  group: string;
  plural: string;
  kind: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

function details(ref: ResourceRef, name: string): Record<string, unknown> {
  return { name, ...(ref.group === '' ? {} : { group: ref.group }), kind: ref.plural };
}

export function notFound(ref: ResourceRef, name: string): StatusError {
  return new StatusError(
    404,
    'NotFound',
    `${qualified(ref)} "${name}" not found`,
    details(ref, name),
  );
}

export function alreadyExists(ref: ResourceRef, name: string): StatusError {
  return new StatusError(
    409,
    'AlreadyExists',
    `${qualified(ref)} "${name}" already exists`,
    details(ref, name),
  );
}

export function conflict(
  ref: ResourceRef,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`,
    details(ref, name),
  );
}

/** 422 Invalid, worded like kube-apiserver: `Deployment.apps "web" is invalid: spec.replicas: …`. */
export function invalid(ref: ResourceRef, name: string, errors: FieldError[]): StatusError {
  const kind = ref.group === '' ? ref.kind : `${ref.kind}.${ref.group}`;
  const texts = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  const summary = texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    name,
    ...(ref.group === '' ? {} : { group: ref.group }),
    kind: ref.kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', message);
}

/** 415 for a patch type the resource does not accept (kube-apiserver's wording). */
export function unsupportedMediaType(accepted: readonly string[]): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** The `Status` body kube-apiserver sends for a failure. */
export function statusBody(error: StatusError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.reason,
    ...(error.details ? { details: error.details } : {}),
    code: error.code,
  };
}

/** Any thrown value as a StatusError; unknown errors become 500 InternalError. */
export function toStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}
