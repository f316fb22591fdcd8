import type { ContainerVersionSpec } from '../api/container-version.js';
import { validateSpec, type Validation } from '../api/validate.js';
import type { StoredContainerVersion } from '../workers/ports.js';

const validated = new WeakMap<object, Validation<ContainerVersionSpec>>();

/**
 * {@link validateSpec} of a CV's spec, computed once per spec object: the informer replaces a
 * CV's object on every change, so a spec seen before is the same spec. The reconciler's periodic
 * passes over every CV (poll ticks, drift resyncs) then cost no validation.
 */
export function validatedSpec(cv: StoredContainerVersion): Validation<ContainerVersionSpec> {
  const spec: unknown = cv.spec;
  if (typeof spec !== 'object' || spec === null) return validateSpec(spec);
  let result = validated.get(spec);
  if (!result) validated.set(spec, (result = validateSpec(spec)));
  return result;
}
