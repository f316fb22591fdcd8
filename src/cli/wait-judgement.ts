import type { CliContainerVersion, WorkloadReplicas } from './cv-access.js';

/** What `cvm wait` waits for: a digest, a version, or (neither given) the rollout in flight. */
export type WaitTarget = { digest: string } | { version: string };

/** Where the wait stands after one look at the CV. */
export type WaitVerdict =
  | { state: 'waiting' }
  | { state: 'succeeded'; message: string }
  | { state: 'failed'; message: string };

/** A verdict that ends the wait. */
export type FinalVerdict = Exclude<WaitVerdict, { state: 'waiting' }>;

const FAILED_RESULTS = new Set(['Failed', 'RolledBack']);

const describeTarget = (t: WaitTarget) => ('digest' in t ? t.digest : `version ${t.version}`);

function matches(t: WaitTarget, x: { digest?: string; version?: string } | undefined): boolean {
  if (!x) return false;
  return 'digest' in t ? x.digest === t.digest : x.version === t.version;
}

/**
 * The target of a wait without `--digest`/`--version`: the digest of the rollout in flight, or
 * `undefined` when none is (the CV's state now is then the answer, see {@link settledVerdict}).
 */
export function targetInFlight(cv: CliContainerVersion): WaitTarget | undefined {
  const digest = cv.status?.rollout?.digest;
  return digest ? { digest } : undefined;
}

/** With no rollout in flight and no target: Ready True succeeds, anything else fails. */
export function settledVerdict(cv: CliContainerVersion): FinalVerdict {
  const ready = cv.status?.conditions?.find((c) => c.type === 'Ready');
  const version = cv.status?.currentVersion;
  if (ready?.status === 'True')
    return { state: 'succeeded', message: `no rollout in flight; ready at ${version ?? '?'}` };
  return {
    state: 'failed',
    message: `no rollout in flight and not ready${ready ? `: ${ready.reason}: ${ready.message}` : ''}`,
  };
}

/**
 * Judges one read of the CV against the target. Pure.
 *
 * - succeeded: `status.currentDigest` (or `currentVersion`) is the target and no rollout is in
 *   flight: cvm recorded that every selected workload runs it;
 * - failed: the target digest is in `status.failedDigests` (known bad: its rollout ended Failed
 *   or RolledBack, or policy, signature or scan refused it) with no rollout of it in flight; the
 *   target version's last rollout so ended; it was superseded; the running target is
 *   being replaced by a rollout of another image, or the CV was deleted (`cv` null);
 * - otherwise waiting (cvm has not started on the target, or its rollout is in flight).
 */
export function judgeWait(cv: CliContainerVersion | null, target: WaitTarget): WaitVerdict {
  if (!cv) return { state: 'failed', message: 'the ContainerVersion was deleted' };
  const status = cv.status ?? {};
  const rollout = status.rollout;
  const last = status.lastRollout;
  const what = describeTarget(target);
  if (rollout && matches(target, rollout)) return { state: 'waiting' };
  if ('digest' in target && status.failedDigests?.includes(target.digest)) {
    const why = matches(target, last) && last?.message ? `: ${last.message}` : '';
    return {
      state: 'failed',
      message: `${what} is known bad (in status.failedDigests; cvm does not roll it out again)${why}`,
    };
  }
  const current = { digest: status.currentDigest, version: status.currentVersion };
  if (matches(target, current)) {
    if (!rollout)
      return {
        state: 'succeeded',
        message: `runs ${status.currentVersion ?? '?'} (${status.currentDigest ?? '?'}) on every workload`,
      };
    return {
      state: 'failed',
      message: `a rollout of ${rollout.version} (${rollout.digest}) is replacing ${what}`,
    };
  }
  // A failed lastRollout counts only while its digest is known bad: after a retry (which forgets
  // the digest) it is stale until the new rollout starts.
  if (
    matches(target, last) &&
    last &&
    FAILED_RESULTS.has(last.result) &&
    status.failedDigests?.includes(last.digest)
  )
    return { state: 'failed', message: `the rollout of ${what} ${last.result}: ${last.message}` };
  if (matches(target, last) && last?.result === 'Superseded')
    return { state: 'failed', message: `the rollout of ${what} was superseded: ${last.message}` };
  return { state: 'waiting' };
}

/** One line saying where the CV stands: rollout phase, step n/N, replicas; or why it waits. */
export function progressLine(
  cv: CliContainerVersion,
  target: WaitTarget | undefined,
  replicas: readonly WorkloadReplicas[] = [],
): string {
  const status = cv.status ?? {};
  const rollout = status.rollout;
  const suspended = cv.spec?.suspend === true ? ' (suspended: spec.suspend is true)' : '';
  if (rollout) {
    const parts = [
      `${rollout.strategy} rollout of ${rollout.version}: step ${rollout.step}/${rollout.steps} ${rollout.phase}`,
    ];
    if (rollout.canary)
      parts.push(
        `canary ${rollout.canary.canaryReplicas}/${rollout.canary.total} replicas (${rollout.canary.weight}%)`,
      );
    for (const r of replicas)
      parts.push(
        `${r.kind.toLowerCase()}/${r.name} ${r.updated}/${r.desired} updated, ${r.ready}/${r.desired} ready`,
      );
    if (rollout.message) parts.push(rollout.message);
    return parts.join('; ') + suspended;
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  const why = progressing?.message ? ` (${progressing.reason}: ${progressing.message})` : '';
  const what = target ? describeTarget(target) : 'a rollout';
  return `waiting for cvm to roll out ${what}${why}${suspended}`;
}
