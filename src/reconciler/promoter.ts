import type { ContainerVersionStatus } from '../api/container-version.js';
import { Reason } from '../api/conditions.js';
import { parseRepository } from '../events/image-ref.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { TagMove, TagWriter } from '../registry/registry-client.js';
import { cvReference } from '../workers/cv-status.js';
import type {
  ContainerVersionStore,
  EventRecorder,
  HistoryStore,
  ObjectKey,
  StoredContainerVersion,
} from '../workers/ports.js';
import type { CvSource } from './cv-controller.js';
import { PROMOTION_RETRY_MS, promotionDue, type PromotionDecision } from './promotion-decision.js';

export interface PromoterDeps {
  /** The CV informer: promotions are considered on every change and when a soak ends. */
  source: CvSource;
  /** Read before acting (the informer may lag) and written with `status.lastPromotion`. */
  store: ContainerVersionStore;
  events: EventRecorder;
  /** Where promotions are recorded as history entries; none: status and Events only. */
  history?: HistoryStore;
  /** The registry clients that move tags (`RegistryClients`). */
  tags: { tagWriterFor(registryHost: string): TagWriter };
  logger: Logger;
  /** Wait before a failed promotion is tried again. Default 30 000 ms. */
  retryMs?: number;
  now?: () => Date;
}

type Promote = Extract<PromotionDecision, { action: 'promote' }>;

/** Timers longer than this are re-armed in steps (setTimeout's limit is 2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Promotion between environments (ADR 0013): when {@link promotionDue} says a CV's digest has
 * soaked, moves `spec.promotion.tag` in the registry to it (as `cvm promote` does), then records
 * a history entry, an Event `Promoted` (only when the tag really moved) and
 * `status.lastPromotion`. Runs on the reconciler's leader, so one replica promotes. Level-based:
 * the decision is made again from the CV read now before anything is written, a timer per CV
 * waits for the end of its soak, and a retry after a crash finds the tag in place and writes
 * nothing to the registry.
 */
export class Promoter implements Runnable {
  readonly name = 'promoter';
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(private readonly deps: PromoterDeps) {}

  start(): Promise<void> {
    this.#stopped = false;
    this.#unsubscribe = this.deps.source.onChange((change) => {
      if (change.type === 'delete') this.#clearTimer(keyOf(change.object));
      else this.#consider(change.object);
    });
    for (const cv of this.deps.source.list()) this.#consider(cv);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#running.values()]);
  }

  #now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  #retryMs(): number {
    return this.deps.retryMs ?? PROMOTION_RETRY_MS;
  }

  #decide(cv: StoredContainerVersion): PromotionDecision {
    return promotionDue(cv, this.#now(), this.#retryMs());
  }

  #consider(cv: StoredContainerVersion): void {
    if (this.#stopped) return;
    const key = keyOf(cv);
    const decision = this.#decide(cv);
    this.#clearTimer(key);
    if (decision.action === 'wait') this.#wake(key, decision.dueAt);
    if (decision.action === 'promote')
      this.#run(key, { namespace: cv.metadata.namespace, name: cv.metadata.name });
  }

  #wake(key: string, dueAt: Date): void {
    this.#clearTimer(key);
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, dueAt.getTime() - this.#now().getTime()));
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      const cv = this.deps.source.list().find((c) => keyOf(c) === key);
      if (cv) this.#consider(cv);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, timer);
  }

  #clearTimer(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  /** One promotion at a time per CV; a change seen meanwhile is considered once it ends. */
  #run(key: string, cv: ObjectKey): void {
    if (this.#running.has(key)) {
      this.#again.add(key);
      return;
    }
    const work: Promise<void> = this.promote(cv)
      .then(() => undefined)
      .catch((error: unknown) => {
        // The API server failed us (reading the CV, history, Event or status): try again later.
        this.deps.logger.warn(
          { cv: key, err: { message: (error as Error).message } },
          'promotion failed',
        );
        if (!this.#stopped) this.#wake(key, new Date(this.#now().getTime() + this.#retryMs()));
      })
      .finally(() => {
        this.#running.delete(key);
        if (this.#again.delete(key)) {
          const latest = this.deps.source.list().find((c) => keyOf(c) === key);
          if (latest) this.#consider(latest);
        }
      });
    this.#running.set(key, work);
  }

  /**
   * Promotes the CV's digest if that is due now, judged on the CV as the API server has it.
   * Resolves to what it did: the decision when nothing was due, else the tag move (or the error).
   */
  async promote(key: ObjectKey): Promise<PromotionDecision | TagMove | Error> {
    const cv = await this.deps.store.get(key);
    if (!cv) return { action: 'none', reason: 'NoPromotion' };
    const decision = this.#decide(cv);
    if (decision.action !== 'promote') {
      if (decision.action === 'wait') this.#wake(keyOf(cv), decision.dueAt);
      return decision;
    }
    const repo = parseRepository(decision.imageRepo);
    const log = this.deps.logger.child({
      cv: keyOf(cv),
      tag: decision.tag,
      digest: decision.digest,
    });
    let move: TagMove;
    try {
      move = await this.deps.tags
        .tagWriterFor(repo.registry)
        .moveTag(
          { registry: repo.registry, repository: repo.repository },
          decision.digest,
          decision.tag,
        );
    } catch (error) {
      await this.#failed(cv, decision, error as Error);
      log.warn({ err: { message: (error as Error).message } }, 'promotion failed');
      return error as Error;
    }
    await this.#record(cv, decision, move);
    log.info({ result: move.result, previousDigest: move.previousDigest }, 'digest promoted');
    return move;
  }

  async #record(cv: StoredContainerVersion, d: Promote, move: TagMove): Promise<void> {
    const at = this.#now().toISOString();
    const target = `${d.imageRepo}:${d.tag}`;
    const message =
      move.result === 'moved'
        ? `${target} moved to ${d.version} (${d.digest})${move.previousDigest ? `, was ${move.previousDigest}` : ''}`
        : `${target} already pointed at ${d.version} (${d.digest})`;
    if (this.deps.history && d.history.enabled) {
      await this.deps.history.add(
        cv,
        {
          id: `promotion-${d.tag}-${d.digest}-${d.rolloutStartedAt}`,
          version: d.version,
          digest: d.digest,
          image: `${target}@${d.digest}`,
          startedAt: at,
          finishedAt: at,
          result: 'Promoted',
          message,
          trigger: 'promotion',
          workloads: [],
          promotion: {
            tag: d.tag,
            ...(move.previousDigest && move.previousDigest !== d.digest
              ? { previousDigest: move.previousDigest }
              : {}),
          },
        },
        d.history.limit,
      );
    }
    // Only a write is news: a retry that finds the tag in place records no second Event.
    if (move.result === 'moved')
      await this.deps.events.record(cvReference(cv), 'Normal', Reason.Promoted, message);
    await this.#patch(cv, {
      tag: d.tag,
      digest: d.digest,
      version: d.version,
      at,
      result: move.result === 'moved' ? 'Promoted' : 'AlreadyThere',
      message,
    });
  }

  async #failed(cv: StoredContainerVersion, d: Promote, error: Error): Promise<void> {
    const message = `${d.imageRepo}:${d.tag} not moved to ${d.digest}: ${error.message}`;
    const previous = cv.status?.lastPromotion;
    const repeated =
      previous?.result === 'Failed' &&
      previous.tag === d.tag &&
      previous.digest === d.digest &&
      previous.message === message;
    if (!repeated)
      await this.deps.events.record(cvReference(cv), 'Warning', Reason.PromotionFailed, message);
    await this.#patch(cv, {
      tag: d.tag,
      digest: d.digest,
      version: d.version,
      at: this.#now().toISOString(),
      result: 'Failed',
      message,
    });
  }

  async #patch(
    cv: StoredContainerVersion,
    lastPromotion: NonNullable<ContainerVersionStatus['lastPromotion']>,
  ): Promise<void> {
    await this.deps.store.patchStatus(
      { namespace: cv.metadata.namespace, name: cv.metadata.name },
      { lastPromotion },
    );
  }
}

const keyOf = (cv: StoredContainerVersion) => `${cv.metadata.namespace}/${cv.metadata.name}`;
