import type { PushEvent } from '../events/push-event.js';
import type { Logger } from '../observability/logger.js';
import type { RolloutSink } from '../queue/rollout-queue.js';
import type { ContainerVersionIndex } from './ports.js';

export interface RouteDeps {
  index: ContainerVersionIndex;
  rollouts: RolloutSink;
  logger: Logger;
}

/**
 * The `push-events` job: one rollout per ContainerVersion that follows the pushed repository and
 * tag, found in the informer's index (no API request per event). Enqueueing is idempotent per CV
 * (see RolloutQueue), so a retried route job adds nothing twice.
 */
export class RouteProcessor {
  constructor(private readonly deps: RouteDeps) {}

  async process(event: PushEvent): Promise<{ routed: number }> {
    const following = this.deps.index.following(event.registry, event.repository, event.tag);
    // Each CV's rollout is its own job: queued at once, not one after another.
    await Promise.all(
      following.map((cv) =>
        this.deps.rollouts.enqueue({
          namespace: cv.namespace,
          name: cv.name,
          uid: cv.uid,
          trigger: {
            kind: event.kind,
            source: event.source,
            receivedAt: event.receivedAt,
            ...(event.digest ? { digest: event.digest } : {}),
          },
        }),
      ),
    );
    this.deps.logger.debug(
      { image: `${event.registry}/${event.repository}:${event.tag}`, routed: following.length },
      following.length > 0 ? 'push event routed' : 'push event followed by no ContainerVersion',
    );
    return { routed: following.length };
  }
}
