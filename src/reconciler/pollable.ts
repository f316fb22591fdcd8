import { parseRepository } from '../events/image-ref.js';
import type { StoredContainerVersion } from '../workers/ports.js';
import type { PollableCv } from './poll-decision.js';
import { validatedSpec } from './validated-spec.js';

/** The poller's view of a CV; undefined for a CV whose spec is invalid (the controller reports it). */
export function toPollable(cv: StoredContainerVersion): PollableCv | undefined {
  const validation = validatedSpec(cv);
  if (!validation.ok) return undefined;
  const spec = validation.value;
  const repo = parseRepository(spec.imageRepo);
  return {
    namespace: cv.metadata.namespace,
    name: cv.metadata.name,
    uid: cv.metadata.uid,
    registry: repo.registry,
    repository: repo.repository,
    tag: spec.tag,
    pollIntervalSeconds: spec.pollIntervalSeconds,
    suspend: spec.suspend,
    currentDigest: cv.status?.currentDigest,
    settled: cv.status?.observedGeneration === cv.metadata.generation && !cv.status.rollout,
  };
}
