import {
  CustomObjectsApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import { CV_GROUP, CV_PLURAL, CV_VERSION } from '../api/container-version.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type {
  ContainerVersionIndex,
  FollowingContainerVersion,
  StoredContainerVersion,
} from '../workers/ports.js';
import {
  ContainerVersionCache,
  keyOf,
  type ContainerVersionChange,
} from './container-version-cache.js';
import { backoffDelayMs } from './backoff.js';
import { classifyKubeError } from './kube-errors.js';

export type { ContainerVersionChange } from './container-version-cache.js';

export interface ContainerVersionInformerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Real ms between forced full re-lists (a guard against silently stuck watches); default 600 000. */
  relistIntervalMs?: number;
  /** First restart delay after an error, in ms; doubles per failed attempt; default 500. */
  initialBackoffMs?: number;
  /** Largest restart delay, in ms; default 30 000. */
  maxBackoffMs?: number;
  /** Source of jitter in [0, 1); default `Math.random`. */
  random?: () => number;
}

type KubeCv = StoredContainerVersion & { metadata: { name: string; namespace: string } };

const PATH = `/apis/${CV_GROUP}/${CV_VERSION}/${CV_PLURAL}`;

/**
 * Keeps every namespace's ContainerVersions in memory with a client-node `ListWatch`, indexed by
 * the normalized image they follow ({@link ContainerVersionCache}). No API request per lookup.
 *
 * What it adds to `ListWatch` (libraries.md §1.5):
 * - on any watch or list error it restarts itself after a jittered exponential backoff
 *   (`initialBackoffMs` doubling up to `maxBackoffMs`, reset once a (re)start runs without error);
 *   the watch resumes from the last resourceVersion, and a 410 Gone re-lists;
 * - errors raised while stopping (client-node 1.4 reports `stop()` as an AbortError) are ignored;
 * - every `relistIntervalMs` it drops the watch and lists again, reporting what the list changed;
 * - `onChange` listeners see add/update/delete from the cache, so a re-list of unchanged objects
 *   reports nothing. Listeners run synchronously; one that throws is logged and does not stop others.
 *
 * `start()` resolves after the first attempt (it does not wait for a reachable API server);
 * {@link synced} resolves once a list is in. `stop()` is idempotent.
 */
export class ContainerVersionInformer implements ContainerVersionIndex, Runnable {
  readonly name = 'container-version-informer';
  private readonly cache = new ContainerVersionCache();
  private readonly listeners = new Set<(change: ContainerVersionChange) => void>();
  private readonly api: CustomObjectsApi;
  private readonly log: Logger;
  private readonly relistIntervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private generation = 0;
  private listWatch: ListWatch<KubeCv> | undefined;
  private stopping = false;
  private started = false;
  private relisting = false;
  private failedAttempts = 0;
  private errorsSeen = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private markSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => {
    this.markSynced = resolve;
  });

  constructor(private readonly options: ContainerVersionInformerOptions) {
    this.api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.log = options.logger.child({ component: this.name });
    this.relistIntervalMs = options.relistIntervalMs ?? 600_000;
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.random = options.random ?? Math.random;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.relistTimer = setInterval(() => void this.relist(), this.relistIntervalMs);
    this.relistTimer.unref();
    await this.connectFresh();
  }

  async stop(): Promise<void> {
    if (this.stopping || !this.started) return;
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.relistTimer);
    const listWatch = this.listWatch;
    this.listWatch = undefined;
    await listWatch?.stop();
  }

  /** Resolves once the first list is in the index. */
  synced(): Promise<void> {
    return this.syncedPromise;
  }

  following(registry: string, repository: string, tag: string): FollowingContainerVersion[] {
    return this.cache.following(registry, repository, tag);
  }

  /** Every ContainerVersion the informer knows, in no particular order. */
  list(): StoredContainerVersion[] {
    return this.cache.list();
  }

  get(namespace: string, name: string): StoredContainerVersion | undefined {
    return this.cache.get(namespace, name);
  }

  /** Calls `listener` on every add, update and delete; returns a function that unsubscribes. */
  onChange(listener: (change: ContainerVersionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops the current ListWatch (its errors become stale) and lists again from scratch. */
  private async relist(): Promise<void> {
    if (this.stopping || this.relisting) return;
    this.relisting = true;
    try {
      this.log.debug('re-listing ContainerVersions');
      clearTimeout(this.restartTimer);
      const old = this.listWatch;
      this.generation++;
      await old?.stop();
      await this.connectFresh();
    } catch (error) {
      this.log.warn({ error: classifyKubeError(error).message }, 'ContainerVersion re-list failed');
    } finally {
      this.relisting = false;
    }
  }

  private async connectFresh(): Promise<void> {
    const generation = ++this.generation;
    const listWatch = new ListWatch<KubeCv>(
      PATH,
      new Watch(this.options.kubeConfig),
      () =>
        this.api.listClusterCustomObject({
          group: CV_GROUP,
          version: CV_VERSION,
          plural: CV_PLURAL,
        }) as Promise<KubernetesListObject<KubeCv>>,
      false,
    );
    const current = () => generation === this.generation && !this.stopping;
    listWatch.on('add', (o) => current() && this.emit(this.cache.upsert(o)));
    listWatch.on('update', (o) => current() && this.emit(this.cache.upsert(o)));
    listWatch.on('delete', (o) => current() && this.emit(this.cache.remove(o)));
    listWatch.on('error', (error) => {
      if (current()) this.onError(listWatch, error);
    });
    this.listWatch = listWatch;
    await this.run(listWatch, current);
  }

  /** One (re)start of `listWatch`; afterwards the cache drops what a fresh list no longer has. */
  private async run(listWatch: ListWatch<KubeCv>, current: () => boolean): Promise<void> {
    const errorsBefore = this.errorsSeen;
    await listWatch.start();
    if (!current() || listWatch.latestResourceVersion() === '') return;
    const listed = new Set(listWatch.list().map(keyOf));
    for (const change of this.cache.retainOnly(listed)) this.emit(change);
    this.markSynced();
    if (this.errorsSeen === errorsBefore) this.failedAttempts = 0;
  }

  private onError(listWatch: ListWatch<KubeCv>, error: unknown): void {
    this.errorsSeen++;
    const delayMs = backoffDelayMs(
      this.failedAttempts++,
      this.initialBackoffMs,
      this.maxBackoffMs,
      this.random,
    );
    const { status, reason, message, transient } = classifyKubeError(error);
    this.log.warn(
      { status, reason, error: message, transient, delayMs },
      'ContainerVersion watch failed; restarting',
    );
    clearTimeout(this.restartTimer);
    const generation = this.generation;
    this.restartTimer = setTimeout(() => {
      const current = () => generation === this.generation && !this.stopping;
      if (!current()) return;
      this.run(listWatch, current).catch((e: unknown) => this.onError(listWatch, e));
    }, delayMs);
  }

  private emit(change: ContainerVersionChange | undefined): void {
    if (!change) return;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.error(
          { err: error, cv: keyOf(change.object), change: change.type },
          'ContainerVersion listener failed',
        );
      }
    }
  }
}
