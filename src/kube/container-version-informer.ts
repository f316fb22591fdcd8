import {
  CustomObjectsApi,
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
import { pageParams, ResourceInformer } from './resource-informer.js';

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
  /** CVs per page of a list; default 500. */
  pageSize?: number;
}

type KubeCv = StoredContainerVersion & { metadata: { name: string; namespace: string } };

const PATH = `/apis/${CV_GROUP}/${CV_VERSION}/${CV_PLURAL}`;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What the cache keeps of a ContainerVersion: all of it but `metadata.managedFields` and the
 * last-applied annotation (a copy of the spec), which nothing in cvm reads.
 */
export function slimContainerVersion(cv: KubeCv): KubeCv {
  const metadata = { ...cv.metadata } as KubeCv['metadata'] & { managedFields?: unknown };
  delete metadata.managedFields;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _dropped, ...annotations } = metadata.annotations;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...cv, metadata };
}

/**
 * Keeps every namespace's ContainerVersions in memory with a {@link ResourceInformer} (restarts
 * with backoff, periodic re-lists), indexed by the normalized image they follow
 * ({@link ContainerVersionCache}). No API request per lookup. `onChange` listeners see add,
 * update and delete from the cache, so a re-list of unchanged objects reports nothing; listeners
 * run synchronously, and one that throws is logged and does not stop others.
 *
 * `start()` resolves after the first attempt (it does not wait for a reachable API server);
 * {@link synced} resolves once a list is in. `stop()` is idempotent.
 */
export class ContainerVersionInformer implements ContainerVersionIndex, Runnable {
  readonly name = 'container-version-informer';
  private readonly cache = new ContainerVersionCache();
  private readonly listeners = new Set<(change: ContainerVersionChange) => void>();
  private readonly log: Logger;
  private readonly informer: ResourceInformer<KubeCv>;

  constructor(options: ContainerVersionInformerOptions) {
    const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.log = options.logger.child({ component: this.name });
    this.informer = new ResourceInformer<KubeCv>({
      ...options,
      logger: this.log,
      what: 'ContainerVersion',
      path: PATH,
      list: (page) =>
        api.listClusterCustomObject({
          group: CV_GROUP,
          version: CV_VERSION,
          plural: CV_PLURAL,
          ...pageParams(page),
        }) as Promise<KubernetesListObject<KubeCv>>,
      transform: (cv) => this.withKnownSpec(slimContainerVersion(cv)),
      onUpsert: (o) => this.emit(this.cache.upsert(o)),
      onDelete: (o) => this.emit(this.cache.remove(o)),
      onListed: (keys) => {
        for (const change of this.cache.retainOnly(keys)) this.emit(change);
      },
    });
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  /**
   * `cv` with the spec object the cache already holds for it when its generation is the one the
   * cache has: the API server moves `metadata.generation` on every spec change, so the spec is the
   * same. A status write (most changes) then keeps the spec object, and with it everything
   * computed once per spec (the reconciler's validation of it).
   */
  private withKnownSpec(cv: KubeCv): KubeCv {
    const known = this.cache.get(cv.metadata.namespace, cv.metadata.name);
    const generation = cv.metadata.generation;
    if (known && generation !== undefined && known.metadata.generation === generation)
      cv.spec = known.spec;
    return cv;
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Resolves once the first list is in the index. */
  synced(): Promise<void> {
    return this.informer.synced();
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
