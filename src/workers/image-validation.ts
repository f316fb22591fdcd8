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
  // Every read starts at once (the running digest is read off the workloads); the checks still
  // look at them in order, and the first read that fails is the error, as if read one by one.
  const runningDigest = workloads
    .map((w) => digestOfImage(containerOf(w, spec.container)?.image))
    .find((d) => d !== undefined && d !== digest);
  const described = registry.describe(repo, digest);
  const runningCreated = runningDigest
    ? registry.describe(repo, runningDigest).then(
        (d) => d.created ?? d.pushedAt,
        () => undefined,
      )
    : Promise.resolve(undefined);
  const architectures = quiet(deps.nodes.architectures());
  const scan = quiet(registry.scanFindings(repo, digest));
  const signature = deps.cosignPublicKey
    ? quiet(registry.verifySignature(repo, digest, deps.cosignPublicKey))
    : undefined;
  const details = await described;
  const pattern = spec.versionPattern ? new RegExp(spec.versionPattern) : undefined;
  const matchingTags = pattern
    ? (details.tags?.filter((t) => pattern.test(t)) ??
      (await registry.tagsOf(repo, digest, (t) => pattern.test(t))))
    : [];
  const version = nameVersion({ digest, matchingTags, labels: details.labels });
  // Only a tag that exists goes into the image: the version tag, else the followed tag.
  const image = `${spec.imageRepo}:${versionTag(matchingTags) ?? spec.tag}@${digest}`;
  const checks: (() => Promise<Verdict> | Verdict)[] = [
    async () => checkPlatforms(details.platforms, await architectures),
    async () =>
      checkRegression(
        details.created ?? details.pushedAt,
        await runningCreated,
        spec.policy.allowRegression,
      ),
    () =>
      checkImageAge(
        details.pushedAt ?? details.created,
        spec.policy.minImageAgeSeconds,
        deps.now(),
      ),
    async () => checkScan(await scan, spec.policy.maxSeverity),
    async () => {
      if (!signature) return { outcome: 'pass' };
      const check = await signature;
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

/**
 * `promise`, marked as handled: a read started early whose check is never reached (an earlier
 * one decided) must not be an unhandled rejection; a check that awaits it still sees the error.
 */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
