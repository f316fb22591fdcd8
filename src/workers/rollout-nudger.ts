import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { RolloutJobData, RolloutWaker } from '../queue/rollout-queue.js';
import type {
  ContainerVersionSource,
  StoredContainerVersion,
  WorkloadSignal,
  WorkloadSignals,
} from './ports.js';
import { pendingRequest } from './rollout-decision.js';
import { workloadKey } from './rollout-facts.js';
import { workloadsProgress } from './workload-progress.js';

export interface RolloutNudgerDeps {
  /** The ContainerVersions as the informer knows them, with their status. */
  cvs: ContainerVersionSource;
  signals: WorkloadSignals;
  rollouts: RolloutWaker;
  logger: Logger;
  /** How often every rollout in flight is checked to have a job (a job whose retries ran out, a lost Redis). Default 30 000 ms. */
  sweepIntervalMs?: number;
  /** Wait before waking again a CV whose job was running when its workloads changed. Default 250 ms. */
  busyRetryMs?: number;
  /** Changes of one CV's workloads within this window wake it once. Default 50 ms. */
  coalesceMs?: number;
  now?: () => Date;
}

/** Wakes of a CV whose job stays busy before the nudger leaves it to the job's own recheck. */
const MAX_BUSY_RETRIES = 40;

/**
 * Continues waiting rollouts when something they wait for changes, so waiting costs no worker
 * and no polling (ADR 0005): a decisive change of a workload that a CV's rollout in flight
 * touched (rolled out, failed, deleted) or of one of its verify Jobs (finished) wakes that CV's
 * delayed job at once. A CV whose job is running at that
 * moment is woken again shortly after, so a change seen during a step is not left to the
 * recheck. A sweep makes sure every rollout in flight has a job at all.
 */
export class RolloutNudger implements Runnable {
  readonly name = 'rollout-nudger';
  /** The CV of each workload key (see {@link #index}); built at the first signal, then kept up to date per change. */
  #byWorkload: Map<string, StoredContainerVersion> | undefined;
  /** The workload keys each CV (`ns/name`) holds in {@link #byWorkload}. */
  readonly #keysOfCv = new Map<string, string[]>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #unsubscribe: (() => void)[] = [];
  #sweep: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly deps: RolloutNudgerDeps) {}

  start(): Promise<void> {
    this.#stopped = false;
    this.#unsubscribe = [
      this.deps.cvs.onChange(({ type, object }) => {
        // One CV changed: only its own entries move (a change costs the same with 10 or 10,000 CVs).
        if (this.#byWorkload) this.#reindex(object, type === 'delete');
        if (type !== 'delete' && pendingRequest(object))
          this.#schedule(object, 0, this.deps.coalesceMs ?? 50);
      }),
      this.deps.signals.onChange((signal) => this.#onSignal(signal)),
    ];
    this.#sweep = setInterval(() => void this.sweep(), this.deps.sweepIntervalMs ?? 30_000);
    this.#sweep.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#unsubscribe) off();
    clearInterval(this.#sweep);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    return Promise.resolve();
  }

  /** Adds a job for every rollout in flight that has none; returns how many it added. */
  async sweep(): Promise<number> {
    let added = 0;
    for (const cv of this.deps.cvs.list()) {
      if (!cv.status?.rollout || this.#stopped) continue;
      try {
        if ((await this.deps.rollouts.ensure(resumeJob(cv, this.#now()))) === 'added') added += 1;
      } catch (error) {
        this.deps.logger.warn(
          { cv: cvKey(cv), err: { message: (error as Error).message } },
          'rollout sweep failed',
        );
      }
    }
    if (added > 0) this.deps.logger.info({ added }, 'rollouts in flight without a job were queued');
    return added;
  }

  #onSignal(signal: WorkloadSignal): void {
    const cv =
      signal.kind === 'Job'
        ? this.#index().get(`${signal.namespace}/Job/${signal.verifyOf ?? ''}`)
        : this.#index().get(`${signal.namespace}/${signal.kind}/${signal.name}`);
    if (cv && decisive(cv, signal)) this.#schedule(cv, 0, this.deps.coalesceMs ?? 50);
  }

  #schedule(cv: StoredContainerVersion, attempt: number, delayMs: number): void {
    const key = cvKey(cv);
    if (this.#stopped || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      void this.#wake(cv, attempt);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, timer);
  }

  async #wake(cv: StoredContainerVersion, attempt: number): Promise<void> {
    try {
      const result = await this.deps.rollouts.wake(resumeJob(cv, this.#now()));
      this.deps.logger.debug({ cv: cvKey(cv), result }, 'rollout woken by a watch event');
      if (result === 'active' && attempt < MAX_BUSY_RETRIES)
        this.#schedule(cv, attempt + 1, this.deps.busyRetryMs ?? 250);
    } catch (error) {
      this.deps.logger.warn(
        { cv: cvKey(cv), err: { message: (error as Error).message } },
        'waking a rollout failed',
      );
    }
  }

  /** `namespace/Kind/name` of each workload (and `namespace/Job/<cv>` of verify Jobs) of rollouts in flight. */
  #index(): Map<string, StoredContainerVersion> {
    if (this.#byWorkload) return this.#byWorkload;
    this.#byWorkload = new Map();
    this.#keysOfCv.clear();
    for (const cv of this.deps.cvs.list()) this.#reindex(cv, false);
    return this.#byWorkload;
  }

  /** Replaces the entries of one CV in the index by those of its rollout in flight (none if `deleted`). */
  #reindex(cv: StoredContainerVersion, deleted: boolean): void {
    const index = this.#byWorkload;
    if (!index) return;
    const key = cvKey(cv);
    for (const k of this.#keysOfCv.get(key) ?? [])
      if (index.get(k) && cvKey(index.get(k)!) === key) index.delete(k);
    this.#keysOfCv.delete(key);
    const rollout = cv.status?.rollout;
    if (deleted || !rollout) return;
    const ns = cv.metadata.namespace;
    const keys = (rollout.workloads ?? []).map((w) => `${w.namespace ?? ns}/${w.kind}/${w.name}`);
    if ((rollout.verify ?? []).length > 0) keys.push(`${ns}/Job/${cv.metadata.name}`);
    for (const k of keys) index.set(k, cv);
    this.#keysOfCv.set(key, keys);
  }

  #now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/**
 * Whether a change can move the rollout on: a verify Job that finished, a workload that finished
 * rolling out or failed (judged as the rollout judges it), anything deleted. The many status
 * updates of a rollout under way wake nothing; the rollout's recheck still reads them.
 */
function decisive(cv: StoredContainerVersion, signal: WorkloadSignal): boolean {
  if (signal.deleted) return true;
  if (signal.kind === 'Job') return signal.finished === true;
  const entry = cv.status?.rollout?.workloads?.find(
    (w) => w.kind === signal.kind && w.name === signal.name,
  );
  if (!entry || !signal.workload) return true;
  const progress = workloadsProgress([entry], new Map([[workloadKey(entry), signal.workload]]));
  return progress.state !== 'progressing';
}

const cvKey = (cv: StoredContainerVersion) => `${cv.metadata.namespace}/${cv.metadata.name}`;

function resumeJob(cv: StoredContainerVersion, now: Date): RolloutJobData {
  return {
    namespace: cv.metadata.namespace,
    name: cv.metadata.name,
    uid: cv.metadata.uid,
    trigger: { kind: 'resume', receivedAt: now.toISOString() },
  };
}
