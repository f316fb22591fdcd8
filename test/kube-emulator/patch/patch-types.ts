import { parse as parseYaml } from 'yaml';
import { StatusError } from '../contract.js';
import { badRequest, unsupportedMediaType } from '../status-errors.js';
import { applyJsonPatch, PatchError } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** Patch types a resource accepts, in kube-apiserver's order (no strategic merge for CRs). */
export function acceptedPatchTypes(custom: boolean): string[] {
  return custom
    ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
    : [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];
}

/** The media type without parameters (`application/merge-patch+json; charset=utf-8`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function parseBody(type: string, body: string): unknown {
  try {
    return type === APPLY_PATCH ? (parseYaml(body) as unknown) : (JSON.parse(body) as unknown);
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}

/**
 * Applies a PATCH body of the given content type to `base`. Server-side apply is approximated as a
 * strategic merge (built-ins) or merge patch (custom resources) of the applied configuration.
 * 415 for an unaccepted type, 400 for an undecodable body, 422 when a JSON patch cannot apply.
 */
export function applyPatch(
  contentType: string | undefined,
  custom: boolean,
  base: unknown,
  body: string,
): unknown {
  const type = mediaType(contentType);
  const accepted = acceptedPatchTypes(custom);
  if (!accepted.includes(type)) throw unsupportedMediaType(accepted);
  const patch = parseBody(type, body);
  try {
    switch (type) {
      case JSON_PATCH:
        return applyJsonPatch(base, patch);
      case MERGE_PATCH:
        return applyMergePatch(base, patch);
      default:
        return custom ? applyMergePatch(base, patch) : applyStrategicMergePatch(base, patch);
    }
  } catch (error) {
    if (error instanceof PatchError) {
      throw new StatusError(422, 'Invalid', error.message);
    }
    throw error;
  }
}
