import { PrometheusMetricChecks } from '../analysis/prometheus-checks.js';
import { ROLLOUT_REQUESTS } from '../api/container-version.js';
import type { Config } from '../config/config.js';
import type { PushEvent } from '../events/push-event.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Redis } from '../queue/connections.js';
import { QueueName } from '../queue/names.js';
import { QueueWorker } from '../queue/queue-worker.js';
import type { NotificationJobData } from '../notify/notification.js';
import { NotificationDelivery } from '../notify/notification-delivery.js';
import { notifyRouting, sinkTargets } from '../notify/notify-config.js';
import { QueueNotifier, type NotificationJobSink } from '../notify/queue-notifier.js';
import {
  rolloutWaiting,
  takeNewerRollout,
  type RolloutJobData,
  type RolloutSink,
  type RolloutWaker,
} from '../queue/rollout-queue.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { targetKey } from '../reconciler/poll-decision.js';
import { toPollable } from '../reconciler/pollable.js';
import type {
  ContainerVersionIndex,
  ContainerVersionSource,
  ContainerVersionStore,
  EventRecorder,
  HistoryStore,
  MetricChecks,
  NodeInfo,
  PodReader,
  ServiceClient,
  VerifyRunner,
  WorkloadClient,
  WorkloadSignals,
} from './ports.js';
import { RolloutNudger } from './rollout-nudger.js';
import { RolloutRunner } from './rollout-runner.js';
import { RouteProcessor } from './route-processor.js';

/** The Kubernetes side of the workers, built by `src/kube` (createKubeAdapters). */
export interface WorkerKube {
  store: ContainerVersionStore;
  index: ContainerVersionIndex & Runnable & ContainerVersionSource;
  /** Watch events of workloads and verify Jobs: what continues waiting rollouts. */
  signals: WorkloadSignals & Runnable;
  workloads: WorkloadClient;
  services: ServiceClient;
  pods: PodReader;
  nodes: NodeInfo;
  events: EventRecorder;
  history: HistoryStore;
  verify: VerifyRunner;
}

export interface WorkerRoleDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  kube: WorkerKube;
  registries: { for(registryHost: string): RegistryClient };
  /** For the BullMQ Workers (`createWorkerConnection`). */
  workerConnection: Redis;
  /** Where routing puts rollouts and watch events wake them; the caller owns (and closes) the queue. */
  rollouts: RolloutSink & RolloutWaker;
  /**
   * Where a job out of retries (a dead letter) asks the leader to poll its `repo:tag` once more
   * (`RedisPollState`), so a push that waited out a long registry outage is not lost for good.
   */
  rechecks?: { recheckLater(target: string, atMs: number): Promise<void> };
  cosignPublicKey?: string;
  /** Canary analysis (Prometheus); default: Prometheus' HTTP API. */
  metricChecks?: MetricChecks;
  /**
   * The `notifications` queue (`NotificationQueue`; the caller owns and closes it): rollouts
   * queue their notifications there and this role's notifications worker sends them. None: no
   * notifications (and none is sent either).
   */
  notifications?: NotificationJobSink;
  now?: () => Date;
}

export interface WorkerRole {
  runner: RolloutRunner;
  /** In start order: the CV index, the workload watches, the rollout worker, the nudger, then routing (once the index is synced). */
  components: Runnable[];
}

/**
 * The workers of one process: `push-events` → route → `rollouts` → rollout. Routing starts only
 * once the CV index has its first list, so no event is routed against an empty index.
 */
export function createWorkerRole(deps: WorkerRoleDeps): WorkerRole {
  const { config, metrics } = deps;
  const logger = deps.logger.child({ component: 'workers' });
  const now = deps.now ?? (() => new Date());
  const rollouts = deps.rollouts;
  const routing = notifyRouting(config);
  const notifier =
    deps.notifications && routing.sinks.length > 0
      ? new QueueNotifier({ queue: deps.notifications, routing, logger })
      : undefined;
  const runner = new RolloutRunner({
    ...deps.kube,
    registries: deps.registries,
    logger,
    now,
    recheckMs: config.rolloutRecheckMs,
    metricChecks: deps.metricChecks ?? new PrometheusMetricChecks(),
    ...(deps.cosignPublicKey ? { cosignPublicKey: deps.cosignPublicKey } : {}),
    ...(notifier ? { notifier } : {}),
    observer: {
      patched: (data) =>
        metrics.pushToPatch.observe((now().getTime() - Date.parse(data.trigger.receivedAt)) / 1000),
      finished: (result, seconds) => {
        if (seconds !== undefined) metrics.rolloutDuration.observe({ result }, seconds);
      },
      step: (strategy, phase) => metrics.rolloutSteps.inc({ strategy, phase }),
      judged: (result) => metrics.canaryJudgements.inc({ result }),
      switched: (reason) => metrics.trafficSwitches.inc({ reason }),
      requested: (action, result) =>
        metrics.rolloutRequests.inc({
          action: (ROLLOUT_REQUESTS as readonly string[]).includes(action) ? action : 'unknown',
          result,
        }),
    },
  });
  const route = new RouteProcessor({ index: deps.kube.index, rollouts, logger });
  const recheckMs = config.recheckSeconds * 1000;
  const deadLetter = async (queue: string, target: string | undefined) => {
    metrics.deadLetters.inc({ queue });
    if (target === undefined || !deps.rechecks) return;
    await deps.rechecks.recheckLater(target, now().getTime() + recheckMs);
    logger.warn({ queue, target, recheckSeconds: config.recheckSeconds }, 'tag polled again later');
  };
  const common = {
    connection: deps.workerConnection,
    prefix: config.queuePrefix,
    lockDurationMs: config.jobLockMs,
    stalledIntervalMs: config.stalledCheckMs,
    logger,
  };
  const rolloutWorker = new QueueWorker<RolloutJobData>({
    ...common,
    queue: QueueName.Rollouts,
    concurrency: config.rolloutConcurrency,
    takeQueued: takeNewerRollout,
    onWait: rolloutWaiting,
    // A rollout in flight continues before the syncs and polls still queued start.
    waitingPriority: 0,
    process: async (data) => {
      const result = await runner.run(data);
      metrics.rollouts.inc({ result });
      return { result };
    },
    onExhausted: (data) => {
      const cv = deps.kube.index
        .list()
        .find((c) => c.metadata.namespace === data.namespace && c.metadata.name === data.name);
      const followed = cv ? toPollable(cv) : undefined;
      return deadLetter(
        QueueName.Rollouts,
        followed && targetKey(followed.registry, followed.repository, followed.tag),
      );
    },
  });
  const routeWorker = new QueueWorker<PushEvent>({
    ...common,
    queue: QueueName.PushEvents,
    concurrency: config.routeConcurrency,
    process: (event) => route.process(event),
    onExhausted: (event) =>
      deadLetter(QueueName.PushEvents, targetKey(event.registry, event.repository, event.tag)),
  });
  const routeAfterSync: Runnable = {
    name: routeWorker.name,
    start: async () => {
      await deps.kube.index.synced();
      await routeWorker.start();
    },
    stop: () => routeWorker.stop(),
  };
  const delivery = new NotificationDelivery({
    targets: sinkTargets(config),
    timeoutMs: config.notifyTimeoutMs,
    ...(config.dashboardUrl ? { dashboardUrl: config.dashboardUrl } : {}),
    logger,
    now,
    onResult: (sink, result) => metrics.notifications.inc({ sink, result }),
  });
  // Its own worker and concurrency: a sink that hangs holds a notification slot, never a rollout's.
  const notificationWorker = new QueueWorker<NotificationJobData>({
    ...common,
    queue: QueueName.Notifications,
    concurrency: config.notifyConcurrency,
    process: (data, job) => delivery.deliver(data, job),
    onExhausted: (data) => {
      metrics.deadLetters.inc({ queue: QueueName.Notifications });
      logger.error(
        { sink: data.sink, event: data.notification.event, attempts: config.notifyAttempts },
        'notification dropped after its last attempt',
      );
    },
  });
  const nudger = new RolloutNudger({
    cvs: deps.kube.index,
    signals: deps.kube.signals,
    rollouts,
    logger,
  });
  return {
    runner,
    components: [
      deps.kube.index,
      deps.kube.signals,
      ...(deps.notifications ? [notificationWorker] : []),
      rolloutWorker,
      nudger,
      routeAfterSync,
    ],
  };
}
