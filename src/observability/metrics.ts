import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcome label of a webhook request or SQS message. */
export type IntakeOutcome =
  | 'accepted'
  | 'duplicate'
  | 'ignored'
  | 'malformed'
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'too_large'
  | 'too_many_events'
  | 'not_found'
  | 'unavailable';

/**
 * How often the event-loop-lag metrics (`nodejs_eventloop_lag_*`) sample, in ms. prom-client's
 * default (10 ms) arms a libuv timer that wakes an idle process 100 times a second: measured in
 * `npm run bench` (scale), about 0.5 % of a core with nothing to do. At 100 ms a stalled loop
 * still shows up, at a tenth of the wake-ups.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The metrics of one cvm process, on its own registry (no global state: tests and several
 * processes in one test run do not collide). Served at `/metrics` on the ops port.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly webhookRequests = new Counter({
    name: 'cvm_webhook_requests_total',
    help: 'Webhook requests by source and outcome.',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookDuration = new Histogram({
    name: 'cvm_webhook_request_duration_seconds',
    help: 'Time from request start to answer, by source and outcome.',
    labelNames: ['source', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly eventsEnqueued = new Counter({
    name: 'cvm_push_events_enqueued_total',
    help: 'PushEvents enqueued on push-events, by source and kind.',
    labelNames: ['source', 'kind'] as const,
    registers: [this.registry],
  });

  readonly duplicatesDropped = new Counter({
    name: 'cvm_push_events_duplicates_total',
    help: 'PushEvents not enqueued because an equal job existed, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly eventsIgnored = new Counter({
    name: 'cvm_push_events_ignored_total',
    help: 'Valid events that are not deployable (delete, pull, blob, untagged, ping), by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly eventsInvalid = new Counter({
    name: 'cvm_push_events_invalid_total',
    help: 'Events of a delivery that do not have the documented shape (listed in the answer; the valid ones of the delivery are still enqueued), by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly sqsMessages = new Counter({
    name: 'cvm_sqs_messages_total',
    help: 'SQS messages by outcome (accepted, duplicate, ignored: deleted; malformed, unavailable: left for redrive).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly rollouts = new Counter({
    name: 'cvm_rollouts_total',
    help: 'Rollout jobs by result (Succeeded, RolledBack, Failed, Unchanged, Blocked, Gone, Suspended).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly rolloutSteps = new Counter({
    name: 'cvm_rollout_steps_total',
    help: 'Rollouts entering a phase (Verifying, Waiting, Switching, Paused, Analyzing, ScalingDown, RollingBack, Recording…), by strategy.',
    labelNames: ['strategy', 'phase'] as const,
    registers: [this.registry],
  });

  readonly canaryJudgements = new Counter({
    name: 'cvm_canary_judgements_total',
    help: 'Judgements of canaries (readiness, restarts, metrics) by result (Passed, Failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly trafficSwitches = new Counter({
    name: 'cvm_traffic_switches_total',
    help: 'BlueGreen Service switches by reason (PreviewSwitched, TrafficSwitched, TrafficSwitchedBack).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly rolloutRequests = new Counter({
    name: 'cvm_rollout_requests_total',
    help: 'cvm.dev/request annotations handled, by action (promote, resume, abort, retry, or what was asked) and result (Applied, Refused).',
    labelNames: ['action', 'result'] as const,
    registers: [this.registry],
  });

  readonly pushToPatch = new Histogram({
    name: 'cvm_push_to_patch_seconds',
    help: 'Time from a push event being received to the workload PATCH being sent.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly rolloutDuration = new Histogram({
    name: 'cvm_rollout_duration_seconds',
    help: 'Time from a rollout starting to its end (success or failure), by result.',
    labelNames: ['result'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200],
    registers: [this.registry],
  });

  readonly registryRequests = new Counter({
    name: 'cvm_registry_requests_total',
    help: 'Requests to registries by host, method and outcome.',
    labelNames: ['registry', 'method', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly polls = new Counter({
    name: 'cvm_polls_total',
    help: 'Registry polls of due repo:tags by outcome (unchanged, changed, missing, rate-limited, error).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly notifications = new Counter({
    name: 'cvm_notifications_total',
    help: 'Notification delivery attempts by sink (slack, teams, webhook) and result (delivered; failed: retried with backoff; rejected: a 4xx, not retried).',
    labelNames: ['sink', 'result'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'cvm_jobs_dead_lettered_total',
    help: 'Jobs that failed for good after their last attempt (left in the failed set; the leader polls their repo:tag again), by queue.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'cvm_reconciler_leader',
    help: '1 while this process holds the reconciler Lease.',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({
        register: this.registry,
        eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
      });
  }
}
