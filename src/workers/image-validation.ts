import type { ContainerVersionSpec } from '../api/container-version.js';
import { Reason } from '../api/conditions.js';
import type { RegistryClient, RepositoryRef } from '../registry/registry-client.js';
import {
  checkImageAge,
  checkPlatforms,
  checkRegression,
  checkScan,
  type Verdict,
} from './image-policy.js';
import { digestOfImage } from './plan-container-patch.js';
import type { NodeInfo, Workload } from './ports.js';
import { containerOf } from './rollout-facts.js';
import { nameVersion, versionTag } from './version-name.js';

export interface ImageValidationDeps {
  nodes: NodeInfo;
  now: () => Date;
  /** PEM public key: when set, images must carry a cosign signature made with it. */
  cosignPublicKey?: string;
}

export type ImageValidation =
  /** `image` is what the workloads get: `repo:tag@digest`, where the tag exists in the registry. */
  | { outcome: 'pass'; version: string; image: string }
  | { outcome: 'wait'; version: string; reason: Reason; message: string; retryAfterMs: number }
  | { outcome: 'fail'; version: string; reason: Reason; message: string };

/**
 * The registry facts and policy checks of a digest before anything is patched (DESIGN §4 step
 * 3, verify Jobs excepted: they are a step of the rollout): name the version; platforms cover the
 * nodes; no regression unless allowed; old enough; scan within `maxSeverity`; signature when a key
 * is configured. The first check that does not pass decides.
 */
export async function validateImage(
  deps: ImageValidationDeps,
  spec: ContainerVersionSpec,
  registry: RegistryClient,
  repo: RepositoryRef,
  digest: string,
  workloads: readonly Workload[],
): Promise<ImageValidation> {
  const details = await registry.describe(repo, digest);
  const pattern = spec.versionPattern ? new RegExp(spec.versionPattern) : undefined;
  const matchingTags = pattern
    ? (details.tags?.filter((t) => pattern.test(t)) ??
      (await registry.tagsOf(repo, digest, (t) => pattern.test(t))))
    : [];
  const version = nameVersion({ digest, matchingTags, labels: details.labels });
  // Only a tag that exists goes into the image: the version tag, else the followed tag.
  const image = `${spec.imageRepo}:${versionTag(matchingTags) ?? spec.tag}@${digest}`;
  const runningDigest = workloads
    .map((w) => digestOfImage(containerOf(w, spec.container)?.image))
    .find((d) => d !== undefined && d !== digest);
  const runningCreated = runningDigest
    ? await registry.describe(repo, runningDigest).then(
        (d) => d.created ?? d.pushedAt,
        () => undefined,
      )
    : undefined;
  const checks: (() => Promise<Verdict> | Verdict)[] = [
    async () => checkPlatforms(details.platforms, await deps.nodes.architectures()),
    () =>
      checkRegression(
        details.created ?? details.pushedAt,
        runningCreated,
        spec.policy.allowRegression,
      ),
    () =>
      checkImageAge(
        details.pushedAt ?? details.created,
        spec.policy.minImageAgeSeconds,
        deps.now(),
      ),
    async () => checkScan(await registry.scanFindings(repo, digest), spec.policy.maxSeverity),
    async () => {
      if (!deps.cosignPublicKey) return { outcome: 'pass' };
      const check = await registry.verifySignature(repo, digest, deps.cosignPublicKey);
      return check.verified
        ? { outcome: 'pass' }
        : {
            outcome: 'fail',
            reason: Reason.SignatureInvalid,
            message: `signature check failed: ${check.reason}`,
          };
    },
  ];
  for (const check of checks) {
    const verdict = await check();
    if (verdict.outcome !== 'pass') return { ...verdict, version };
  }
  return { outcome: 'pass', version, image };
}
