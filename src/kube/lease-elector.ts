import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CoordinationV1Api,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type V1Lease,
} from '@kubernetes/client-node';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import { loadKubeConfig } from './kube-config.js';
import { isConflict, isNotFound, toKubeApiError } from './kube-errors.js';
import { decideLease, releasedLeaseSpec, takenLeaseSpec } from './lease-record.js';

export interface LeaseElectorOptions {
  /** Kubeconfig file; in-cluster or default loading when absent ({@link loadKubeConfig}). */
  kubeconfigPath?: string;
  /** An already loaded client configuration; wins over `kubeconfigPath`. */
  kubeConfig?: KubeConfig;
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease, e.g. `cvm-reconciler`. */
  name: string;
  /** This candidate's holder identity; default `<hostname>-<8 random hex>`. Unique per process. */
  identity?: string;
  /** How long a lease stays valid after its last renewal; default 15 s. */
  leaseDurationSeconds?: number;
  /** Time between renewals while leading; default a third of the lease duration. */
  renewIntervalMs?: number;
  /**
   * The leader steps down when its last successful renewal is this old; default two thirds of the
   * lease duration. The rest of the lease is the margin for `onStoppedLeading` and clock skew.
   * Must lie between `renewIntervalMs` and the lease duration.
   */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire, plus up to 25 % jitter; default 2000 ms. */
  retryIntervalMs?: number;
  /** Timeout of each API request (a leader's renewal is also cut at its deadline); default `renewIntervalMs`. */
  requestTimeoutMs?: number;
  logger: Logger;
  /** Called when this candidate becomes leader. Should start the work and return promptly. */
  onStartedLeading: () => void | Promise<void>;
  /**
   * Called when leadership ends (lost, renewal failed, `stop()`), only after `onStartedLeading`.
   * Must stop the work within `leaseDuration - renewDeadline`, before another replica may lead.
   */
  onStoppedLeading: () => void | Promise<void>;
  /** Wall clock for lease times; default `new Date()`. */
  now?: () => Date;
}

/** The outcome of one read-and-take: `conflict` when another candidate wrote first (a 409). */
type Attempt =
  | { kind: 'leading' }
  | { kind: 'follow'; holder: string; expiresAtMs: number }
  | { kind: 'conflict' };

/**
 * Leader election on a `coordination.k8s.io/v1` Lease (libraries.md §1.7), as client-go does it:
 * read the Lease; create it when missing; take it when it is free, ours or expired (by the
 * holder's `renewTime + leaseDurationSeconds`), replacing with the read `resourceVersion` so that
 * of two candidates exactly one wins (the other gets a 409 and follows). The leader renews every
 * `renewIntervalMs` and steps down (`onStoppedLeading`) when it could not renew for
 * `renewDeadlineMs`, which is before the lease can expire in anyone's eyes if clocks agree within
 * the margin. API errors never throw: they are logged and retried.
 *
 * `start()` resolves after the first attempt (at most `requestTimeoutMs`); `isLeader()` then
 * tells its outcome. `stop()` is idempotent: it ends the loop, calls (and awaits)
 * `onStoppedLeading` if leading and only then releases the Lease (empty holder, 1 s duration), so
 * the work has stopped before a follower takes over on its next attempt instead of waiting for
 * the lease to expire. A release that fails is logged; the lease then simply expires.
 */
export class LeaseElector implements Runnable {
  readonly name = 'lease-elector';
  readonly identity: string;
  readonly #api: CoordinationV1Api;
  readonly #log: Logger;
  readonly #options: LeaseElectorOptions;
  readonly #leaseDurationSeconds: number;
  readonly #renewIntervalMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryIntervalMs: number;
  readonly #requestTimeoutMs: number;
  readonly #now: () => Date;
  readonly #stopping = new AbortController();
  #leading = false;
  /** The renewTime of our last successful write, in ms. */
  #renewedAtMs = 0;
  /** The Lease as our last successful write returned it (carries its resourceVersion). */
  #lease: V1Lease | undefined;
  #lastHolder: string | undefined;
  #failures = 0;
  #callbacks: Promise<void> = Promise.resolve();
  #loop: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: LeaseElectorOptions) {
    this.#options = options;
    this.identity = options.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
    this.#leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    const leaseMs = this.#leaseDurationSeconds * 1000;
    this.#renewIntervalMs = options.renewIntervalMs ?? Math.round(leaseMs / 3);
    this.#renewDeadlineMs = options.renewDeadlineMs ?? Math.round((leaseMs * 2) / 3);
    this.#retryIntervalMs = options.retryIntervalMs ?? 2000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? this.#renewIntervalMs;
    if (!(this.#renewIntervalMs > 0 && this.#renewIntervalMs < this.#renewDeadlineMs)) {
      throw new Error('LeaseElector: renewIntervalMs must be positive and below renewDeadlineMs');
    }
    if (this.#renewDeadlineMs >= leaseMs) {
      throw new Error('LeaseElector: renewDeadlineMs must be below the lease duration');
    }
    this.#now = options.now ?? (() => new Date());
    const kubeConfig = options.kubeConfig ?? loadKubeConfig(options.kubeconfigPath);
    this.#api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.#log = options.logger.child({
      component: 'lease-elector',
      lease: `${options.namespace}/${options.name}`,
      identity: this.identity,
    });
  }

  /** True while this candidate holds the Lease and its last renewal is within the renew deadline. */
  isLeader(): boolean {
    return this.#leading && this.#nowMs() < this.#renewedAtMs + this.#renewDeadlineMs;
  }

  async start(): Promise<void> {
    if (this.#loop || this.#stopped) return;
    let firstAttemptDone!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
    this.#loop = this.#run(firstAttemptDone);
    await firstAttempt;
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    if (this.#leading) {
      this.#setLeading(false, 'stopping');
      await this.#callbacks;
      await this.#release();
    }
    await this.#callbacks;
  }

  async #run(firstAttemptDone: () => void): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      const waitMs = this.#leading ? await this.#renew() : await this.#acquire();
      firstAttemptDone();
      await delay(waitMs, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
    }
    firstAttemptDone();
  }

  /** One attempt as a candidate; returns the time to wait before the next step. */
  async #acquire(): Promise<number> {
    try {
      const attempt = await this.#attempt(this.#requestTimeoutMs);
      this.#recovered();
      if (attempt.kind === 'leading') {
        this.#setLeading(true, 'acquired');
        return this.#renewIntervalMs;
      }
      if (attempt.kind === 'conflict') {
        this.#log.debug('another candidate took the lease first');
        return this.#jitteredRetryMs();
      }
      this.#following(attempt.holder);
      // Wake up just after the holder's lease expires rather than up to a retry interval later.
      const untilExpiryMs = Math.max(0, attempt.expiresAtMs - this.#nowMs()) + 20;
      return Math.min(this.#jitteredRetryMs(), untilExpiryMs);
    } catch (error) {
      this.#failed(error, 'lease acquisition failed');
      return this.#jitteredRetryMs();
    }
  }

  /** One renewal as leader; steps down when the Lease is lost or the renew deadline passes. */
  async #renew(): Promise<number> {
    const deadlineMs = this.#renewedAtMs + this.#renewDeadlineMs;
    try {
      const timeoutMs = Math.min(this.#requestTimeoutMs, deadlineMs - this.#nowMs());
      if (timeoutMs <= 0) throw new Error('renew deadline passed');
      const attempt = await this.#attempt(timeoutMs);
      this.#recovered();
      if (attempt.kind === 'leading') return this.#renewIntervalMs;
      this.#setLeading(false, attempt.kind === 'conflict' ? 'conflict on renewal' : 'lease taken');
      if (attempt.kind === 'follow') this.#following(attempt.holder);
      return this.#jitteredRetryMs();
    } catch (error) {
      this.#failed(error, 'lease renewal failed');
      const leftMs = deadlineMs - this.#nowMs();
      if (leftMs > 0) return Math.min(this.#retryIntervalMs, leftMs);
      this.#setLeading(false, 'renew deadline passed');
      return 0;
    }
  }

  /**
   * Reads the Lease and takes it when allowed. A 409 on create or replace means another candidate
   * wrote first, so we are not leader. Other errors throw.
   */
  async #attempt(timeoutMs: number): Promise<Attempt> {
    const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(timeoutMs)]);
    const { namespace, name } = this.#options;
    let current: V1Lease | undefined;
    try {
      current = await this.#api.readNamespacedLease({ namespace, name }, abortOptions(signal));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const now = this.#now();
    const decision = decideLease(
      current?.spec,
      this.identity,
      now.getTime(),
      this.#leaseDurationSeconds,
    );
    if (decision.action === 'follow') return { kind: 'follow', ...decision };
    const spec = takenLeaseSpec(current?.spec, this.identity, this.#leaseDurationSeconds, now);
    try {
      this.#lease = current
        ? await this.#api.replaceNamespacedLease(
            { namespace, name, body: { ...current, spec } },
            abortOptions(signal),
          )
        : await this.#api.createNamespacedLease(
            { namespace, body: { metadata: { name, namespace }, spec } },
            abortOptions(signal),
          );
    } catch (error) {
      if (isConflict(error)) return { kind: 'conflict' };
      throw error;
    }
    this.#renewedAtMs = now.getTime();
    return { kind: 'leading' };
  }

  /** Lets go of the Lease if we still hold it: one retry after a 409 with a fresh read. */
  async #release(): Promise<void> {
    const { namespace, name } = this.#options;
    let lease = this.#lease;
    for (let attempt = 0; attempt < 2 && lease?.spec?.holderIdentity === this.identity; attempt++) {
      const signal = AbortSignal.timeout(this.#requestTimeoutMs);
      try {
        const body = { ...lease, spec: releasedLeaseSpec(lease.spec, this.#now()) };
        await this.#api.replaceNamespacedLease({ namespace, name, body }, abortOptions(signal));
        this.#log.info('lease released');
        return;
      } catch (error) {
        if (!isConflict(error)) {
          this.#log.warn({ err: toKubeApiError(error, 'release lease') }, 'lease release failed');
          return;
        }
        lease = await this.#api
          .readNamespacedLease({ namespace, name }, abortOptions(signal))
          .catch(() => undefined);
      }
    }
  }

  #setLeading(leading: boolean, reason: string): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    if (leading) this.#log.info({ reason }, 'leadership acquired');
    else if (this.#stopping.signal.aborted) this.#log.info({ reason }, 'leadership given up');
    else this.#log.warn({ reason }, 'leadership lost');
    const callback = leading ? this.#options.onStartedLeading : this.#options.onStoppedLeading;
    const which = leading ? 'onStartedLeading' : 'onStoppedLeading';
    this.#callbacks = this.#callbacks.then(async () => {
      try {
        await callback();
      } catch (error) {
        this.#log.error({ err: error, callback: which }, 'leader election callback failed');
      }
    });
  }

  #following(holder: string): void {
    if (holder === this.#lastHolder) return;
    this.#lastHolder = holder;
    this.#log.info({ holder }, 'following lease holder');
  }

  #failed(error: unknown, message: string): void {
    this.#failures++;
    if (this.#stopping.signal.aborted) return;
    const err = toKubeApiError(error, `lease ${this.#options.namespace}/${this.#options.name}`);
    if (this.#failures === 1 || this.#leading) this.#log.warn({ err }, message);
    else this.#log.debug({ err, failures: this.#failures }, message);
  }

  #recovered(): void {
    if (this.#failures > 0)
      this.#log.info({ failures: this.#failures }, 'lease API reachable again');
    this.#failures = 0;
  }

  #jitteredRetryMs(): number {
    return Math.round(this.#retryIntervalMs * (1 + Math.random() * 0.25));
  }

  #nowMs(): number {
    return this.#now().getTime();
  }
}

/** Per-request client options that abort the request on `signal` (stop or timeout). */
function abortOptions(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
