import type { Normalizer, PushSource } from '../push-event.js';
import { normalizeAcr } from './acr.js';
import { normalizeDistribution } from './distribution.js';
import { normalizeDockerhub } from './dockerhub.js';
import { normalizeEcr } from './ecr.js';
import { normalizeGar } from './gar.js';
import { normalizeGeneric } from './generic.js';
import { normalizeGhcr } from './ghcr.js';
import { normalizeHarbor } from './harbor.js';
import { normalizeQuay } from './quay.js';

/**
 * The normalizer of each event source (DESIGN §3: providers are entries in a table). Each is pure
 * and synchronous and throws only {@link MalformedEventError}; see its module for the format.
 */
export const NORMALIZERS: Readonly<Record<PushSource, Normalizer>> = Object.freeze({
  ecr: normalizeEcr,
  dockerhub: normalizeDockerhub,
  quay: normalizeQuay,
  ghcr: normalizeGhcr,
  harbor: normalizeHarbor,
  acr: normalizeAcr,
  gar: normalizeGar,
  distribution: normalizeDistribution,
  generic: normalizeGeneric,
});
