import { parseRepository } from '../events/image-ref.js';
import type { StoredContainerVersion } from '../workers/ports.js';
import type { PollableCv } from './poll-decision.js';
import { validatedSpec } from './validated-spec.js';

/** The poller's view of a CV; undefined for a CV whose spec is invalid (the controller reports it). */
export function toPollable(cv: StoredContainerVersion): PollableCv | undefined {
  if (pollables.has(cv)) return pollables.get(cv) ?? undefined;
  const pollable = pollableOf(cv);
  pollables.set(cv, pollable ?? null);
  return pollable;
}

/**
 * {@link toPollable} of each CV object seen (`null`: not pollable). The informer replaces a CV's
 * object on every change, so an object seen before has not changed: the poller's view, rebuilt
 * after each change of any CV, re-derives only the CVs that changed.
 */
const pollables = new WeakMap<StoredContainerVersion, PollableCv | null>();

function pollableOf(cv: StoredContainerVersion): PollableCv | undefined {
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
