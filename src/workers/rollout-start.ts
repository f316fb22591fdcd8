import type { ContainerVersionSpec, RolloutState } from '../api/container-version.js';
import { ConditionType, Reason } from '../api/conditions.js';
import { parseRepository } from '../events/image-ref.js';
import type { Logger } from '../observability/logger.js';
import { RetryLaterError } from '../queue/job-errors.js';
import type { RolloutJobData } from '../queue/rollout-queue.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { blockedConditions, cvReference } from './cv-status.js';
import { validateImage, type ImageValidationDeps } from './image-validation.js';
import type { EventRecorder, MetricChecks, Notifier, StoredContainerVersion } from './ports.js';
import { blockedNotification, notify, rolloutNotification } from './rollout-notices.js';
import type { RollbackRequest, RolloutFacts, RunOutcome } from './rollout-facts.js';
import { handledRequest, iso } from './rollout-record.js';
import type { RunStatus } from './run-status.js';
import { STRATEGIES } from './strategies/strategies.js';

export interface StartContext {
  deps: ImageValidationDeps & {
    events: EventRecorder;
    registries: { for(registryHost: string): RegistryClient };
    observer?: {
      finished(result: RunOutcome, durationSeconds: number | undefined): void;
      requested?(action: string, result: 'Applied' | 'Refused'): void;
    };
    metricChecks?: MetricChecks;
    notifier?: Notifier;
  };
  spec: ContainerVersionSpec;
  data: RolloutJobData;
  status: RunStatus;
  log: Logger;
  /**
   * Takes work that need not finish before the next action (the RolloutStarted Event, a
   * courtesy that never fails): the run awaits it before it ends. Without it, it is awaited here.
   */
  defer?: (work: Promise<unknown>) => void;
}

/** The CV after the start, or the outcome when the image was refused. */
export type StartResult = { cv: StoredContainerVersion } | { outcome: RunOutcome };

/**
 * The `validate` action: the image's checks (skipped for `heal`, a revert to the CV's current
 * image, which passed them before), then the rollout's start written to `status.rollout` before
 * anything is patched, with a RolloutStarted (or DriftCorrected) Event. A check that says "not
 * yet" throws {@link RetryLaterError}; one that refuses the digest remembers it in `failedDigests`.
 *
 * The RolloutStarted Event is handed to `ctx.defer` when given, so the first patch need not wait for it.
 *
 * `rollback`: a person's rollback request. The regression policy does not apply to it; the
 * request is recorded in `status.lastRequest` in the write that starts the rollout (with the held
 * back digests in `failedDigests`) or in the one that refuses its image, so it is handled once.
 */
export async function startRollout(
  ctx: StartContext,
  facts: RolloutFacts,
  digest: string,
  heal: boolean,
  rollback?: RollbackRequest,
): Promise<StartResult> {
  const { cv } = facts;
  const { status } = ctx;
  const spec = rollback
    ? { ...ctx.spec, policy: { ...ctx.spec.policy, allowRegression: true } }
    : ctx.spec;
  // A revert of drift is a plain patch of the workloads that must run the current digest.
  const type = heal ? 'Rolling' : spec.strategy.type;
  const strategy = STRATEGIES[type];
  if (!strategy) throw new Error(`no strategy ${type}`);
  const chosen = STRATEGIES[spec.strategy.type];
  const prepared = heal ? undefined : chosen?.prepare?.(facts);
  if (prepared && 'invalid' in prepared) throw new Error(prepared.invalid);
  const scope = heal ? chosen?.tracked?.(facts) : undefined;
  let version = cv.status?.currentVersion ?? '';
  let image = cv.status?.currentImage ?? '';
  if (!heal) await probeMetrics(ctx, cv);
  if (!heal) {
    const repo = parseRepository(spec.imageRepo);
    const registry = ctx.deps.registries.for(repo.registry);
    const checked = await validateImage(
      ctx.deps,
      spec,
      registry,
      repo,
      digest,
      facts.selected ?? [],
    );
    if (checked.outcome === 'wait') {
      await status.write(cv, {}, [
        status.condition(ConditionType.Progressing, 'False', checked.reason, checked.message),
      ]);
      throw new RetryLaterError(checked.message, checked.retryAfterMs);
    }
    if (checked.outcome === 'fail')
      return refuse(ctx, cv, digest, checked.version, checked.reason, checked.message, rollback);
    version = checked.version;
    image = checked.image;
  }
  const startedAt = iso(ctx.deps.now());
  const tagElsewhere = facts.resolved && facts.resolved.digest !== digest;
  const rollout: RolloutState = {
    id: `${digest}@${startedAt}`,
    strategy: type,
    phase: strategy.firstPhase(spec, heal),
    step: 1,
    steps: strategy.steps(spec),
    digest,
    version,
    image,
    trigger: rollback ? 'rollback' : ctx.data.trigger.kind,
    ...(heal ? { heal: true } : {}),
    ...(prepared?.state ?? {}),
    ...(scope ? { workloads: scope.map((w) => ({ kind: w.kind, name: w.name })) } : {}),
    startedAt,
    message: heal
      ? `reverting drift: the workloads go back to ${version}${tagElsewhere ? ` (the tag points at ${facts.resolved?.digest}, which failed before)` : ''}`
      : rollback
        ? `rolling back to ${version} by request${rollback.hold.length > 0 ? `; held back: ${rollback.hold.join(', ')}` : ''}`
        : `rolling out ${version}`,
  };
  const requestFields = rollback
    ? {
        lastRequest: handledRequest(rollback, 'Applied', rollout.message, ctx.deps.now()),
        failedDigests: [
          ...new Set([
            ...(cv.status?.failedDigests ?? []).filter((d) => d !== rollback.forget),
            ...rollback.hold,
          ]),
        ],
      }
    : {};
  const reason = heal ? Reason.DriftCorrected : Reason.RolloutStarted;
  const stored = await status.write(
    cv,
    {
      rollout,
      lastRollout: {
        version,
        digest,
        startedAt,
        // null removes the previous rollout's end time: the status is merge-patched.
        finishedAt: null as unknown as undefined,
        result: 'Progressing',
        message: '',
      },
      ...requestFields,
    },
    [status.progressing(reason, rollout.message)],
  );
  // The Event goes out while the workloads are patched: the rollout's start is written already.
  const recorded = ctx.deps.events.record(
    cvReference(cv),
    'Normal',
    reason,
    heal || rollback ? rollout.message : `rolling out ${image}`,
  );
  if (ctx.defer) ctx.defer(recorded);
  else await recorded;
  if (rollback) ctx.deps.observer?.requested?.(rollback.action, 'Applied');
  ctx.log.info({ digest, version, heal }, 'rollout started');
  // After the write that starts the rollout (its id is in the status now). Not failing the step:
  // the rollout exists, and a step run again would not start it again.
  await notify(
    ctx.deps.notifier,
    spec,
    rolloutNotification(cv, rollout, 'started', {
      reason,
      message: rollout.message,
      now: ctx.deps.now(),
    }),
  ).catch((error: unknown) =>
    ctx.log.warn({ err: { message: (error as Error).message } }, 'notification not queued'),
  );
  return { cv: stored };
}

/**
 * Canary: every Prometheus the analysis asks must answer before the rollout starts; one that
 * does not is a spec problem (Ready=False naming the field), retried later, and no digest is blamed.
 */
async function probeMetrics(ctx: StartContext, cv: StoredContainerVersion): Promise<void> {
  const { spec, status } = ctx;
  const checks = ctx.deps.metricChecks;
  if (spec.strategy.type !== 'Canary' || !checks) return;
  const metrics = spec.strategy.canary?.analysis.metrics ?? [];
  const probed = new Map<string, string | undefined>();
  for (const [i, m] of metrics.entries()) {
    const { address, timeoutSeconds } = m.prometheus;
    if (!probed.has(address)) probed.set(address, await checks.probe(address, timeoutSeconds));
    const why = probed.get(address);
    if (why === undefined) continue;
    const message = `spec.strategy.canary.analysis.metrics[${i}].prometheus.address: ${why}`;
    await status.write(
      cv,
      {},
      blockedConditions(Reason.InvalidSpec, message, cv.metadata.generation),
    );
    throw new RetryLaterError(message, PROBE_RETRY_MS);
  }
}

/** How soon a start whose Prometheus did not answer is tried again. */
const PROBE_RETRY_MS = 30_000;

/** A check refused the digest before anything was patched: remembered, never retried. */
async function refuse(
  ctx: StartContext,
  cv: StoredContainerVersion,
  digest: string,
  version: string,
  reason: Reason,
  why: string,
  rollback: RollbackRequest | undefined,
): Promise<StartResult> {
  const message = `${version} (${digest}) was not rolled out: ${why}`;
  const now = iso(ctx.deps.now());
  // Queued before the status write that remembers the digest: a step that dies in between runs
  // again and queues the same notification (deduplicated), so none is lost.
  await notify(
    ctx.deps.notifier,
    ctx.spec,
    blockedNotification(cv, { digest, version, reason, message, now: ctx.deps.now() }),
  );
  await ctx.status.write(
    cv,
    {
      failedDigests: [...new Set([...(cv.status?.failedDigests ?? []), digest])],
      lastRollout: { version, digest, startedAt: now, finishedAt: now, result: 'Failed', message },
      ...(rollback
        ? { lastRequest: handledRequest(rollback, 'Refused', message, ctx.deps.now()) }
        : {}),
    },
    [
      ctx.status.condition(ConditionType.Progressing, 'False', reason, message),
      ctx.status.condition(ConditionType.Degraded, 'True', reason, message),
    ],
  );
  ctx.deps.observer?.finished('Failed', undefined);
  ctx.log.warn({ digest, reason, message }, 'image refused');
  return { outcome: 'Blocked' };
}
