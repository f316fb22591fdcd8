import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import { backoffDelayMs } from './backoff.js';
import { classifyKubeError } from './kube-errors.js';

export interface ResourceInformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** What is watched, for logs: `ContainerVersion`, `Deployment`. */
  what: string;
  /** The watch path, e.g. `/apis/apps/v1/deployments` (all namespaces). */
  path: string;
  /**
   * Lists one page of what `path` watches (the same label selector, if any): at most `limit`
   * objects, after the `continue` token of the page before when there is one.
   */
  list: (page: ListPage) => Promise<KubernetesListObject<T>>;
  /** Objects per page of a list (`limit`); default 500, as client-go's reflector. */
  pageSize?: number;
  /** A label selector the watch sends along with `path`. */
  labelSelector?: string;
  /**
   * Applied to every object as it arrives (listed or watched), before it is cached or handed on:
   * what it returns is all the informer keeps, so a cache holds only what its readers need. It
   * must keep `metadata.name`, `namespace` and `resourceVersion`. Default: the object as is.
   */
  transform?: (object: T) => T;
  /** Called for every object added or changed (resourceVersion moved). Must be idempotent. */
  onUpsert: (object: T) => void;
  /** Called for every object deleted, or gone from a fresh list. */
  onDelete: (object: T) => void;
  /** Called after each successful (re)list with the `namespace/name` keys it returned. */
  onListed?: (keys: ReadonlySet<string>) => void;
  /** Real ms between forced full re-lists (a guard against silently stuck watches); default 600 000. */
  relistIntervalMs?: number;
  /** First restart delay after an error, in ms; doubles per failed attempt; default 500. */
  initialBackoffMs?: number;
  /** Largest restart delay, in ms; default 30 000. */
  maxBackoffMs?: number;
  /** Source of jitter in [0, 1); default `Math.random`. */
  random?: () => number;
}

/** One page of a list: pass `limit` and, when set, `continue` (`_continue` in client-node) along. */
export interface ListPage {
  limit: number;
  continue?: string;
}

/** A page as the generated list calls take it: `{ limit, _continue }`. */
export const pageParams = (page: ListPage): { limit: number; _continue?: string } =>
  page.continue === undefined
    ? { limit: page.limit }
    : { limit: page.limit, _continue: page.continue };

/** `namespace/name` of an object (name alone for cluster-scoped ones). */
export const objectKey = (o: KubernetesObject): string =>
  o.metadata?.namespace
    ? `${o.metadata.namespace}/${o.metadata.name ?? ''}`
    : (o.metadata?.name ?? '');

/**
 * A client-node `ListWatch` made safe to run for days (libraries.md §1.5):
 * - on any watch or list error it restarts itself after a jittered exponential backoff
 *   (`initialBackoffMs` doubling up to `maxBackoffMs`, reset once a (re)start runs without error);
 *   the watch resumes from the last resourceVersion, and a 410 Gone re-lists;
 * - errors raised while stopping (client-node 1.4 reports `stop()` as an AbortError) are ignored;
 * - every `relistIntervalMs` it drops the watch and lists again;
 * - events of a ListWatch that was replaced are dropped, so a re-list cannot race an old stream.
 *
 * `start()` resolves after the first attempt (it does not wait for a reachable API server);
 * {@link synced} resolves once a list is in. `stop()` is idempotent.
 */
export class ResourceInformer<T extends KubernetesObject> {
  private readonly log: Logger;
  private readonly relistIntervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private generation = 0;
  private listWatch: ListWatch<T> | undefined;
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

  constructor(private readonly options: ResourceInformerOptions<T>) {
    this.log = options.logger;
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

  /** Resolves once the first list is in. */
  synced(): Promise<void> {
    return this.syncedPromise;
  }

  /** Drops the current ListWatch (its errors become stale) and lists again from scratch. */
  private async relist(): Promise<void> {
    if (this.stopping || this.relisting) return;
    this.relisting = true;
    try {
      this.log.debug({ resource: this.options.what }, 're-listing');
      clearTimeout(this.restartTimer);
      const old = this.listWatch;
      this.generation++;
      await old?.stop();
      await this.connectFresh();
    } catch (error) {
      this.log.warn(
        { resource: this.options.what, error: classifyKubeError(error).message },
        're-list failed',
      );
    } finally {
      this.relisting = false;
    }
  }

  private async connectFresh(): Promise<void> {
    const generation = ++this.generation;
    const { path, list, labelSelector, onUpsert, onDelete, transform } = this.options;
    const listWatch = new ListWatch<T>(
      path,
      transform
        ? transformingWatch(new Watch(this.options.kubeConfig), transform)
        : new Watch(this.options.kubeConfig),
      () => listInPages(list, this.options.pageSize ?? 500, transform),
      false,
      labelSelector,
    );
    const current = () => generation === this.generation && !this.stopping;
    listWatch.on('add', (o) => current() && onUpsert(o));
    listWatch.on('update', (o) => current() && onUpsert(o));
    listWatch.on('delete', (o) => current() && onDelete(o));
    listWatch.on('error', (error) => {
      if (current()) this.onError(listWatch, error);
    });
    this.listWatch = listWatch;
    await this.run(listWatch, current);
  }

  /** One (re)start of `listWatch`; afterwards the listener hears which objects a fresh list has. */
  private async run(listWatch: ListWatch<T>, current: () => boolean): Promise<void> {
    const errorsBefore = this.errorsSeen;
    await listWatch.start();
    if (!current() || listWatch.latestResourceVersion() === '') return;
    this.options.onListed?.(new Set(listWatch.list().map(objectKey)));
    this.markSynced();
    if (this.errorsSeen === errorsBefore) this.failedAttempts = 0;
  }

  private onError(listWatch: ListWatch<T>, error: unknown): void {
    this.errorsSeen++;
    const delayMs = backoffDelayMs(
      this.failedAttempts++,
      this.initialBackoffMs,
      this.maxBackoffMs,
      this.random,
    );
    const { status, reason, message, transient } = classifyKubeError(error);
    this.log.warn(
      { resource: this.options.what, status, reason, error: message, transient, delayMs },
      'watch failed; restarting',
    );
    clearTimeout(this.restartTimer);
    const generation = this.generation;
    this.restartTimer = setTimeout(() => {
      const current = () => generation === this.generation && !this.stopping;
      if (!current()) return;
      this.run(listWatch, current).catch((e: unknown) => this.onError(listWatch, e));
    }, delayMs);
  }
}

/**
 * Every page of a list, each one's objects passed through `transform` as it arrives, so a big
 * kind is never held whole as it came off the wire (10,000 Deployments: one page of 500 at a
 * time). The result carries the first page's resourceVersion: the API server serves every page of
 * a list from the snapshot the first one was read at, and the watch resumes from there, so a
 * change made while the pages were read arrives as a watch event. An expired `continue` token
 * (410) fails the list, which starts again from the first page after the informer's backoff.
 */
async function listInPages<T extends KubernetesObject>(
  list: (page: ListPage) => Promise<KubernetesListObject<T>>,
  limit: number,
  transform: ((object: T) => T) | undefined,
): Promise<KubernetesListObject<T>> {
  const first = await list({ limit });
  const items = transform ? first.items.map(transform) : [...first.items];
  for (let token = continueOf(first); token;) {
    const page = await list({ limit, continue: token });
    for (const item of page.items) items.push(transform ? transform(item) : item);
    token = continueOf(page);
  }
  return { ...first, items };
}

/** A list's `continue` token: `_continue` once client-node deserialized it, `continue` on the wire (custom objects). */
const continueOf = (list: KubernetesListObject<KubernetesObject>): string | undefined => {
  const metadata: { _continue?: string; continue?: string } | undefined = list.metadata;
  return metadata?._continue || metadata?.continue || undefined;
};

/** A Watch whose ADDED, MODIFIED and DELETED objects pass through `transform` (BOOKMARKs and ERRORs as they are). */
function transformingWatch<T>(watch: Watch, transform: (object: T) => T): Watch {
  const wrapper: Pick<Watch, 'watch'> = {
    watch: (path, query, callback, done) =>
      watch.watch(
        path,
        query,
        (phase: string, object: unknown, raw: unknown) =>
          callback(
            phase,
            phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED'
              ? transform(object as T)
              : object,
            raw,
          ),
        done,
      ),
  };
  return wrapper as Watch;
}
