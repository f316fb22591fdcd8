import { LEASE_NAME } from '../install/rbac-rules.js';
import type { Config } from '../config/config.js';
import { LeaseElector } from '../kube/lease-elector.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Redis } from '../queue/connections.js';
import { RedisPollState } from '../queue/poll-state.js';
import type { RolloutSink } from '../queue/rollout-queue.js';
import type { RegistryClient, TagWriter } from '../registry/registry-client.js';
import type {
  ContainerVersionStore,
  EventRecorder,
  HistoryStore,
  ServiceClient,
  StoredContainerVersion,
  WorkloadClient,
} from '../workers/ports.js';
import { CvController, type CvSource } from './cv-controller.js';
import { DriftDetector, type WorkloadCache } from './drift-detector.js';
import type { PollableCv } from './poll-decision.js';
import { toPollable } from './pollable.js';
import { Poller } from './poller.js';
import { Promoter } from './promoter.js';

export interface ReconcilerRoleDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** The CV informer (shared with the workers in `cvm serve`); started by the caller. */
  source: CvSource & { get(namespace: string, name: string): StoredContainerVersion | undefined };
  store: ContainerVersionStore;
  /** Fresh reads of single workloads (drift confirmation). */
  workloads: WorkloadClient;
  /** The workload watcher (shared with the workers and the REST API); started by the caller. */
  workloadCache: WorkloadCache;
  /** BlueGreen's Services, for drift of the live colour. */
  services?: ServiceClient;
  events: EventRecorder;
  registries: { for(registryHost: string): RegistryClient };
  /** Moves tags for `spec.promotion` (`RegistryClients`); without it no CV is promoted. */
  tagWriters?: { tagWriterFor(registryHost: string): TagWriter };
  /** Where promotions are recorded in history; without it, status and Events only. */
  history?: HistoryStore;
  rollouts: RolloutSink;
  producerConnection: Redis;
  /** Holder identity in the Lease; default host name and a random suffix. */
  identity?: string;
}

/**
 * The reconciler: one leader at a time (a Lease), and only the leader runs the CV controller, the
 * poller, the drift detector and the promoter (spec.promotion). Losing the Lease stops them before another replica can lead.
 */
export function createReconcilerRole(deps: ReconcilerRoleDeps): {
  elector: LeaseElector;
  components: Runnable[];
} {
  const { config, metrics } = deps;
  const logger = deps.logger.child({ component: 'reconciler' });
  const state = new RedisPollState(deps.producerConnection, config.queuePrefix);
  // The poller's view of the CVs, rebuilt only after a change (each poll tick reads it).
  let pollables: PollableCv[] | undefined;
  deps.source.onChange(() => (pollables = undefined));
  const cvs = (): PollableCv[] =>
    (pollables ??= deps.source.list().flatMap((cv) => toPollable(cv) ?? []));
  let work: Lifecycle | undefined;
  const leaderWork = () => {
    const lifecycle = new Lifecycle({
      logger,
      stopTimeoutMs: Math.max(1_000, (config.leaseDurationSeconds * 1000) / 3),
    });
    lifecycle.add(
      new CvController({
        source: deps.source,
        store: deps.store,
        events: deps.events,
        rollouts: deps.rollouts,
        logger,
      }),
    );
    lifecycle.add(
      new Poller({
        cvs,
        state,
        registries: deps.registries,
        rollouts: deps.rollouts,
        logger,
        tickMs: config.pollTickMs,
        maxPollsPerTick: config.pollMaxPerTick,
        recheckDelayMs: config.recheckSeconds * 1000,
        onPoll: (_target, outcome) => metrics.polls.inc({ outcome }),
      }),
    );
    lifecycle.add(
      new DriftDetector({
        cvs: deps.source,
        cache: deps.workloadCache,
        store: deps.store,
        workloads: deps.workloads,
        ...(deps.services ? { services: deps.services } : {}),
        events: deps.events,
        rollouts: deps.rollouts,
        logger,
        intervalMs: config.driftCheckSeconds * 1000,
      }),
    );
    if (deps.tagWriters) {
      lifecycle.add(
        new Promoter({
          source: deps.source,
          store: deps.store,
          events: deps.events,
          ...(deps.history ? { history: deps.history } : {}),
          tags: deps.tagWriters,
          logger,
          retryMs: config.recheckSeconds * 1000,
        }),
      );
    }
    return lifecycle;
  };
  const elector = new LeaseElector({
    ...(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}),
    namespace: config.leaseNamespace,
    name: LEASE_NAME,
    ...(deps.identity ? { identity: deps.identity } : {}),
    leaseDurationSeconds: config.leaseDurationSeconds,
    logger,
    onStartedLeading: async () => {
      metrics.leader.set(1);
      logger.info('leading: reconciler started');
      work = leaderWork();
      await work.start();
    },
    onStoppedLeading: async () => {
      metrics.leader.set(0);
      await work?.stop();
      work = undefined;
      logger.info('not leading: reconciler stopped');
    },
  });
  return { elector, components: [elector] };
}
