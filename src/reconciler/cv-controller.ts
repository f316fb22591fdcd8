import { Reason } from '../api/conditions.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { RolloutSink } from '../queue/rollout-queue.js';
import { blockedConditions, writeStatus } from '../workers/cv-status.js';
import { validatedSpec } from './validated-spec.js';
import type {
  ContainerVersionSource,
  ContainerVersionStore,
  EventRecorder,
  StoredContainerVersion,
} from '../workers/ports.js';

/** What the controller needs of the CV informer. */
export type CvSource = ContainerVersionSource;

export interface CvControllerDeps {
  source: CvSource;
  store: ContainerVersionStore;
  events: EventRecorder;
  rollouts: RolloutSink;
  logger: Logger;
  now?: () => Date;
}

/** What to do with a CV seen by the controller; pure. */
export function controllerAction(cv: StoredContainerVersion): 'none' | 'invalid' | 'sync' {
  if (cv.status?.observedGeneration === cv.metadata.generation) return 'none';
  return validatedSpec(cv).ok ? 'sync' : 'invalid';
}

/**
 * The CV controller: a new or changed CV (its generation not yet observed) is synced once, by
 * enqueueing the same rollout job a push would (the job resolves the tag and rolls out if the
 * workloads differ, and writes `observedGeneration`); an invalid spec gets `Ready=False,
 * InvalidSpec` with the message naming each bad field. A deleted CV patches nothing; its history
 * ConfigMap goes with it through its ownerReference.
 */
export class CvController implements Runnable {
  readonly name = 'cv-controller';
  #unsubscribe: (() => void) | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: CvControllerDeps) {}

  start(): Promise<void> {
    this.#unsubscribe = this.deps.source.onChange((change) => {
      if (change.type !== 'delete') this.#track(this.handle(change.object));
    });
    for (const cv of this.deps.source.list()) this.#track(this.handle(cv));
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await Promise.allSettled([...this.#inFlight]);
  }

  async handle(cv: StoredContainerVersion): Promise<void> {
    const action = controllerAction(cv);
    if (action === 'none') return;
    if (action === 'invalid') {
      const validation = validatedSpec(cv);
      const message = validation.ok ? '' : validation.message;
      const ready = cv.status?.conditions?.find((c) => c.type === 'Ready');
      if (
        ready?.reason === Reason.InvalidSpec &&
        ready.message === message &&
        cv.status?.observedGeneration === cv.metadata.generation
      )
        return;
      await writeStatus(
        { ...this.deps, now: this.deps.now ?? (() => new Date()) },
        cv,
        {},
        blockedConditions(Reason.InvalidSpec, message, cv.metadata.generation),
      );
      return;
    }
    await this.deps.rollouts.enqueue({
      namespace: cv.metadata.namespace,
      name: cv.metadata.name,
      uid: cv.metadata.uid,
      trigger: { kind: 'sync', receivedAt: (this.deps.now?.() ?? new Date()).toISOString() },
    });
  }

  #track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: { message: (error as Error).message } }, 'cv sync failed'),
      )
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}
