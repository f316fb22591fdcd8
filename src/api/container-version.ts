import { z } from 'zod';
import { compileCondition, InvalidConditionError } from '../analysis/condition.js';
import { InvalidImageRefError, parseRepository } from '../events/image-ref.js';

/** API group, version and names of the ContainerVersion resource. */
export const CV_GROUP = 'cvm.dev';
export const CV_VERSION = 'v1';
export const CV_API_VERSION = `${CV_GROUP}/${CV_VERSION}`;
export const CV_KIND = 'ContainerVersion';
export const CV_PLURAL = 'containerversions';
export const CV_SINGULAR = 'containerversion';
export const CV_SHORT_NAMES = ['cv'] as const;

/**
 * A repository without tag or digest, as Docker's reference grammar allows it: an optional
 * registry host (with a `.`, a `:port` or `localhost`) and lowercase path components.
 * The runtime check in `src/events` is stricter; this pattern is what the API server enforces.
 */
const REPOSITORY_PATTERN =
  '^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$';
const TAG_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$';
/** A DNS-1123 label: the names of containers and Kubernetes objects. */
const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
const DIGEST_PATTERN = '^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$';

const dnsLabel = (what: string) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(new RegExp(DNS_LABEL_PATTERN), {
      error: `${what} must be a DNS-1123 label (lowercase letters, digits and '-')`,
    });

function isValidRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export const SEVERITIES = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export const STRATEGY_TYPES = ['Rolling', 'BlueGreen', 'Canary'] as const;
export type StrategyType = (typeof STRATEGY_TYPES)[number];

const LABEL_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
const labelKey = (what: string) =>
  z
    .string()
    .min(1)
    .max(317)
    .regex(new RegExp(LABEL_KEY_PATTERN), { error: `${what} must be a label key` });

export const VERIFY_WHEN = ['PrePromotion', 'PostPromotion'] as const;

const VerifyCheck = z
  .object({
    name: dnsLabel('verify[].name').describe(
      'Name of the check; the Job is named <cv>-verify-<name>.',
    ),
    image: z
      .string()
      .min(1)
      .optional()
      .describe('Image of the check Job. Default: the image being rolled out.'),
    command: z
      .array(z.string())
      .min(1)
      .describe(
        'Command of the check Job. The image, version and digest under test are in CVM_IMAGE, CVM_VERSION and CVM_DIGEST; for BlueGreen the preview and active Services in CVM_PREVIEW_URL and CVM_ACTIVE_URL.',
      ),
    args: z.array(z.string()).optional().describe('Arguments of the command.'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .describe('Seconds the Job may run before the check fails.'),
    when: z
      .enum(VERIFY_WHEN)
      .default('PrePromotion')
      .describe(
        'PrePromotion: before traffic moves (a failure leaves it where it was). PostPromotion: once the new version has the traffic (a failure rolls back, or switches back for BlueGreen).',
      ),
  })
  .describe('A check run as a Job that must complete.');

const BlueGreen = z
  .object({
    activeService: dnsLabel('strategy.blueGreen.activeService').describe(
      "Service (in the CV's namespace) that takes the traffic: its selector (or, with namespaces, its ExternalName) is switched to the new colour.",
    ),
    previewService: dnsLabel('strategy.blueGreen.previewService')
      .optional()
      .describe('Service pointed at the new colour before the switch, for verify checks.'),
    colorLabel: labelKey('strategy.blueGreen.colorLabel')
      .default('cvm.dev/color')
      .describe(
        "Label whose value tells the two colours apart, on the workloads and in the Services' selectors.",
      ),
    namespaces: z
      .array(dnsLabel('strategy.blueGreen.namespaces[]'))
      .length(2)
      .refine((n) => n[0] !== n[1], { error: 'the two namespaces must differ' })
      .optional()
      .describe(
        'The namespace variant: the colours are these two namespaces (workloads matched by spec.selector in each), and the active (and preview) Service is of type ExternalName pointing at <serviceName>.<namespace>.svc.',
      ),
    serviceName: dnsLabel('strategy.blueGreen.serviceName')
      .optional()
      .describe(
        'With namespaces: the Service in each colour namespace that the ExternalName points at. Default: activeService.',
      ),
    autoPromote: z
      .boolean()
      .default(true)
      .describe(
        'Switch once the new colour is ready and verified; false waits for a person (promote) before the switch.',
      ),
    scaleDown: z
      .boolean()
      .default(true)
      .describe('Scale the old colour to 0 replicas after scaleDownDelaySeconds.'),
    scaleDownDelaySeconds: z
      .number()
      .int()
      .min(0)
      .default(30)
      .describe('Seconds the old colour keeps running after the switch.'),
  })
  .describe('Options of the BlueGreen strategy. Required when type is BlueGreen.');

/** A metric condition must compile (src/analysis/condition.ts): the error says where it fails. */
function conditionCheck(ctx: { value: string; issues: unknown[] }) {
  try {
    compileCondition(ctx.value);
  } catch (error) {
    if (!(error instanceof InvalidConditionError)) throw error;
    (ctx.issues as object[]).push({ code: 'custom', input: ctx.value, message: error.message });
  }
}

const PrometheusMetric = z
  .object({
    name: dnsLabel('strategy.canary.analysis.metrics[].name').describe('Name of the metric.'),
    prometheus: z.object({
      address: z
        .url({ protocol: /^https?$/, error: 'address must be an http(s) URL of Prometheus' })
        .describe('Base URL of Prometheus, e.g. http://prometheus.monitoring:9090.'),
      query: z.string().min(1).describe('PromQL instant query.'),
      timeoutSeconds: z.number().int().min(1).max(300).default(10),
    }),
    successCondition: z
      .string()
      .min(1)
      .check(conditionCheck)
      .describe(
        'Condition on the query result that means success, e.g. result < 0.01 or result[0] >= 0.95.',
      ),
    failureCondition: z
      .string()
      .min(1)
      .check(conditionCheck)
      .optional()
      .describe('Condition that means failure; default: successCondition is false.'),
    intervalSeconds: z.number().int().min(1).default(30).describe('Seconds between measurements.'),
    count: z.number().int().min(1).max(100).default(1).describe('Measurements per analysis.'),
    failureLimit: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Failed (or unanswered) measurements allowed before the analysis fails.'),
  })
  .describe('A metric check: a PromQL query judged by a condition.');

const CanaryStep = z
  .object({
    setWeight: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('Share of the replicas (percent) that run the new version.'),
    pause: z
      .object({
        durationSeconds: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('Seconds to wait; absent: wait until a person promotes the rollout.'),
      })
      .optional(),
    analysis: z
      .object({
        metrics: z
          .array(z.string())
          .optional()
          .describe('Names of the metrics judged at this step; default all.'),
      })
      .optional()
      .describe('Judge the canary now: readiness, restarts and the metrics.'),
  })
  .refine((s) => [s.setWeight, s.pause, s.analysis].filter((x) => x !== undefined).length === 1, {
    error: 'each step has exactly one of setWeight, pause, analysis',
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '[has(self.setWeight), has(self.pause), has(self.analysis)].filter(x, x).size() == 1',
        message: 'each step has exactly one of setWeight, pause, analysis',
      },
    ],
  });

const Canary = z
  .object({
    trackLabel: labelKey('strategy.canary.trackLabel')
      .default('cvm.dev/track')
      .describe(
        'Label telling the two workloads apart: the one labelled stable and the one labelled canary.',
      ),
    steps: z
      .array(CanaryStep)
      .min(1)
      .max(50)
      .check((ctx) => {
        let last = 0;
        ctx.value.forEach((step, i) => {
          if (step.setWeight === undefined) return;
          if (step.setWeight <= last)
            ctx.issues.push({
              code: 'custom',
              input: step.setWeight,
              path: [i, 'setWeight'],
              message: `weights must increase: ${step.setWeight} after ${last}`,
            });
          last = Math.max(last, step.setWeight);
        });
      })
      .optional()
      .describe(
        'The steps; default: setWeight replicasPercent, pause judgeSeconds, analysis. After the last step the stable workload takes the new version.',
      ),
    replicasPercent: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(10)
      .describe('Without steps: share of replicas that take the new version first, in percent.'),
    judgeSeconds: z
      .number()
      .int()
      .min(0)
      .default(60)
      .describe(
        'Without steps: seconds the canary must stay ready without restarts before the rest follows.',
      ),
    analysis: z
      .object({
        maxRestarts: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe('Container restarts of canary pods allowed; more fails the canary.'),
        metrics: z.array(PrometheusMetric).max(20).default([]),
      })
      .prefault({})
      .describe('How the canary is judged.'),
  })
  .check((ctx) => {
    const names = new Set(ctx.value.analysis.metrics.map((m) => m.name));
    ctx.value.steps?.forEach((step, i) =>
      step.analysis?.metrics?.forEach((name, j) => {
        if (!names.has(name))
          ctx.issues.push({
            code: 'custom',
            input: name,
            path: ['steps', i, 'analysis', 'metrics', j],
            message: `no metric ${name} in strategy.canary.analysis.metrics`,
          });
      }),
    );
  })
  .describe('Options of the Canary strategy.');

const Strategy = z
  .object({
    type: z
      .enum(STRATEGY_TYPES)
      .default('Rolling')
      .describe(
        "Rolling uses the workload's own update strategy; BlueGreen and Canary are run by cvm.",
      ),
    blueGreen: BlueGreen.optional(),
    canary: Canary.optional(),
  })
  .refine((s) => s.type !== 'BlueGreen' || s.blueGreen !== undefined, {
    error: 'strategy.blueGreen is required when strategy.type is BlueGreen',
    path: ['blueGreen'],
  })
  // The same rule for the API server (CEL, Kubernetes 1.25+).
  .meta({
    'x-kubernetes-validations': [
      {
        rule: "self.type != 'BlueGreen' || has(self.blueGreen)",
        message: 'strategy.blueGreen is required when strategy.type is BlueGreen',
      },
    ],
  });

const Policy = z.object({
  allowRegression: z
    .boolean()
    .default(false)
    .describe('Allow rolling out an image older than the one running.'),
  maxSeverity: z
    .enum(SEVERITIES)
    .optional()
    .describe(
      'Highest vulnerability severity allowed. When set, a scan is required; NONE allows no findings.',
    ),
  minImageAgeSeconds: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Seconds an image must have existed in the registry before it is rolled out.'),
});

const Rollback = z.object({
  enabled: z
    .boolean()
    .default(true)
    .describe('Roll back to the previous image when a rollout fails.'),
  progressDeadlineSeconds: z
    .number()
    .int()
    .min(1)
    .default(600)
    .describe('Seconds a rollout may take before it counts as failed.'),
});

const History = z.object({
  enabled: z.boolean().default(true).describe('Keep a history ConfigMap <cv>-history.'),
  limit: z.number().int().min(1).max(500).default(50).describe('Entries kept, newest first.'),
});

/** What a rollout tells people about (src/notify): the names used in config and `spec.notify`. */
export const NOTIFY_EVENTS = ['started', 'succeeded', 'failed', 'rolled-back', 'blocked'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
/** Where notifications go; each is configured per cluster (CVM_NOTIFY_*). */
export const NOTIFY_SINKS = ['slack', 'teams', 'webhook'] as const;
export type NotifySink = (typeof NOTIFY_SINKS)[number];

const Notify = z.object({
  events: z
    .array(
      z.enum(NOTIFY_EVENTS, {
        error: `notify.events[] must be one of ${NOTIFY_EVENTS.join(', ')}`,
      }),
    )
    .optional()
    .describe(
      'Which of the events the cluster notifies about (CVM_NOTIFY_EVENTS) this ContainerVersion gets: started, succeeded, failed, rolled-back, blocked. Unset: all of them; empty: none.',
    ),
  sinks: z
    .array(
      z.enum(NOTIFY_SINKS, { error: `notify.sinks[] must be one of ${NOTIFY_SINKS.join(', ')}` }),
    )
    .optional()
    .describe(
      "Which of the cluster's configured sinks (slack, teams, webhook) get this ContainerVersion's notifications. Unset: all of them; empty: none.",
    ),
});

/** The spec of a ContainerVersion: the one source of truth for types, validation and the CRD. */
export const ContainerVersionSpecSchema = z.object({
  imageRepo: z
    .string()
    .min(1)
    .max(255)
    .regex(new RegExp(REPOSITORY_PATTERN), {
      error: 'imageRepo must be a repository without tag or digest, e.g. ghcr.io/acme/api',
    })
    .check((ctx) => {
      // The full Docker grammar (length after normalization, host rules) that a pattern cannot say.
      try {
        parseRepository(ctx.value);
      } catch (error) {
        if (!(error instanceof InvalidImageRefError)) throw error;
        ctx.issues.push({ code: 'custom', input: ctx.value, message: `imageRepo ${error.reason}` });
      }
    })
    .describe(
      'Repository to follow, without tag or digest. Docker Hub names are normalized (nginx → docker.io/library/nginx).',
    ),
  tag: z
    .string()
    .regex(new RegExp(TAG_PATTERN), {
      error: 'tag must be a Docker tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}',
    })
    .describe('The tag to follow: an environment tag that CI moves, such as prod.'),
  versionPattern: z
    .string()
    .min(1)
    .refine(isValidRegExp, { error: 'versionPattern must be a valid regular expression' })
    .optional()
    .describe(
      'Which other tag of the same digest names the version (e.g. a git sha). Default: OCI labels, else the short digest.',
    ),
  pollIntervalSeconds: z
    .number()
    .int()
    .min(0)
    .default(300)
    .describe(
      'Seconds without a push event after which the registry is polled; 0 means push only.',
    ),
  selector: z
    .record(
      z.string().min(1).max(317),
      z
        .string()
        .max(63)
        .regex(new RegExp(LABEL_VALUE_PATTERN), { error: 'selector values must be label values' }),
    )
    .refine((m) => Object.keys(m).length > 0, { error: 'selector must name at least one label' })
    .meta({ minProperties: 1 })
    .describe(
      'Labels of the workloads (Deployment, StatefulSet, DaemonSet, CronJob) in this namespace to update.',
    ),
  container: dnsLabel('container').describe('Name of the container (or initContainer) to update.'),
  strategy: Strategy.prefault({}).describe('How the new version reaches the workloads.'),
  verify: z.array(VerifyCheck).max(20).default([]).describe('Checks run before traffic moves.'),
  policy: Policy.prefault({}).describe('Which images may be rolled out.'),
  rollback: Rollback.prefault({}).describe('What happens when a rollout fails.'),
  history: History.prefault({}).describe('The history of rollouts.'),
  suspend: z.boolean().default(false).describe('Stop all rollouts of this ContainerVersion.'),
  notify: Notify.optional().describe(
    "Narrows the cluster's notifications for this ContainerVersion (which events, which sinks). Unset: every configured sink gets every configured event.",
  ),
});

const Time = z.string().describe('RFC 3339 time.');

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export const ConditionSchema = z.object({
  type: z.string().min(1).describe('Ready, Progressing, Degraded or Suspended.'),
  status: z.enum(CONDITION_STATUSES),
  reason: z.string().min(1).describe('CamelCase reason; see src/api/conditions.ts.'),
  message: z.string().default(''),
  lastTransitionTime: Time,
  observedGeneration: z.number().int().optional(),
});

export const ROLLOUT_RESULTS = [
  'Progressing',
  'Succeeded',
  'Failed',
  'RolledBack',
  'Superseded',
] as const;
/** How a rollout ended. */
export const ROLLOUT_FINAL_RESULTS = ['Succeeded', 'Failed', 'RolledBack', 'Superseded'] as const;
/** Where a rollout in flight stands; its strategy moves it from phase to phase. */
export const ROLLOUT_PHASES = [
  'Verifying',
  'Patching',
  'Waiting',
  'Switching',
  'Paused',
  'Analyzing',
  'ScalingDown',
  'RollingBack',
  'Recording',
] as const;
/**
 * What a person (or CI) can ask of a CV through the `cvm.dev/request` annotation: of a rollout in
 * flight `promote`, `resume`, `abort`; of the last failed one `retry`; `sync` (check the registry
 * now); `rollback:<digest>` and `force-rollback:<digest>` (roll back to a digest of the history).
 */
export const ROLLOUT_REQUESTS = [
  'promote',
  'resume',
  'abort',
  'retry',
  'sync',
  'rollback',
  'force-rollback',
] as const;
/** The requests a strategy answers for its rollout in flight. */
export type StepRequest = 'promote' | 'resume' | 'abort';

const RolloutWorkloadSchema = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob']),
  name: z.string(),
  namespace: z
    .string()
    .optional()
    .describe("Set when the workload is not in the CV's namespace (BlueGreen namespaces)."),
  role: z
    .enum(['new', 'live', 'stable', 'canary'])
    .optional()
    .describe('BlueGreen: new (the colour taking the version) or live; Canary: stable or canary.'),
  previousReplicas: z
    .number()
    .int()
    .optional()
    .describe('spec.replicas before this rollout: what an abort restores.'),
  uid: z.string().optional(),
  previousImage: z
    .string()
    .optional()
    .describe('The image the container ran before this rollout: what a rollback restores.'),
  generation: z
    .number()
    .int()
    .optional()
    .describe(
      "metadata.generation after cvm's patch: the workload's status counts only once its observedGeneration reaches it.",
    ),
  progressStamp: z
    .string()
    .optional()
    .describe(
      "The Deployment's Progressing condition (reason@lastUpdateTime) before this rollout: a deadline it reports is not this rollout's.",
    ),
});

const RolloutVerifySchema = z.object({
  name: z.string().describe('The verify check.'),
  job: z.string().describe('Name of its Job.'),
  startedAt: Time,
  result: z.enum(['Succeeded', 'Failed']).optional(),
  message: z.string().optional(),
});

const MeasurementSchema = z.object({
  at: Time,
  phase: z.enum(['Successful', 'Failed', 'Error']),
  value: z.string().describe('What the query returned.'),
  message: z.string().default(''),
});

const MetricRunSchema = z.object({
  name: z.string(),
  measurements: z
    .array(MeasurementSchema)
    .default([])
    .describe('The last measurements, oldest first.'),
  count: z.number().int().min(0).default(0).describe('Measurements taken.'),
  failures: z.number().int().min(0).default(0).describe('Failed or unanswered measurements.'),
});

const JudgementSchema = z.object({
  at: Time,
  result: z.enum(['Passed', 'Failed']),
  message: z.string(),
});

const BlueGreenStateSchema = z.object({
  activeService: z.string(),
  previewService: z.string().optional(),
  liveColor: z.string().describe('The colour that had the traffic when the rollout started.'),
  newColor: z.string().describe('The colour that takes the new version.'),
  previewedAt: Time.optional().describe('When the preview Service was pointed at the new colour.'),
  switchedAt: Time.optional().describe('When the active Service was switched to the new colour.'),
  switchedBackAt: Time.optional().describe('When the active Service was switched back.'),
});

const CanaryStateSchema = z.object({
  total: z.number().int().min(0).describe('Replicas of stable and canary together.'),
  weight: z.number().int().min(0).max(100).describe('Share of the replicas set for the canary.'),
  canaryReplicas: z.number().int().min(0).describe('Replicas set for the canary.'),
  actualWeight: z
    .number()
    .int()
    .min(0)
    .max(100)
    .optional()
    .describe('Share of the ready replicas that run the canary, as last read.'),
  pauseStartedAt: Time.optional(),
  analysisStartedAt: Time.optional(),
  metrics: z.array(MetricRunSchema).optional().describe('The analysis of the current step.'),
  judgement: JudgementSchema.optional().describe('The last judgement of the canary.'),
  promoted: z.boolean().optional().describe('A person asked to skip the remaining steps.'),
});

/**
 * A rollout in flight (ADR 0005): everything needed to continue it after any crash. Written
 * before anything is patched, removed once the rollout is recorded in history and lastRollout.
 */
export const RolloutStateSchema = z.object({
  id: z.string().describe('Stable id of the rollout (digest@startedAt); its history entry has it.'),
  strategy: z.enum(STRATEGY_TYPES),
  phase: z.enum(ROLLOUT_PHASES),
  step: z.number().int().min(1).describe('Step of the strategy, from 1.'),
  steps: z.number().int().min(1).describe('Steps of the strategy for this CV.'),
  digest: z.string(),
  version: z.string(),
  image: z.string().describe('repo:tag@digest written to the workloads.'),
  trigger: z.string().describe('What started it: push, scan, poll, drift or sync.'),
  heal: z
    .boolean()
    .optional()
    .describe('A revert of workloads that drifted from currentDigest (no checks run).'),
  startedAt: Time,
  progressDeadlineAt: Time.optional().describe(
    'When the workloads must have rolled out (set when they are patched).',
  ),
  workloads: z
    .array(RolloutWorkloadSchema)
    .optional()
    .describe('The workloads this rollout touched.'),
  verify: z.array(RolloutVerifySchema).optional().describe('The verify Jobs of this rollout.'),
  result: z.enum(ROLLOUT_FINAL_RESULTS).optional().describe('Set when the phase is Recording.'),
  reason: z.string().optional().describe('CamelCase reason of the result.'),
  failure: z.string().optional().describe('Why the rollout failed, while it rolls back.'),
  blueGreen: BlueGreenStateSchema.optional().describe('BlueGreen: the colours and the switch.'),
  canary: CanaryStateSchema.optional().describe(
    'Canary: weights set and actual, pause, analysis and judgement.',
  ),
  message: z.string().default('').describe('Where the rollout stands, for people.'),
});

/** The status of a ContainerVersion: a public API (ADR 0002). */
export const ContainerVersionStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  currentVersion: z.string().optional().describe('Version running on the workloads.'),
  currentDigest: z.string().regex(new RegExp(DIGEST_PATTERN)).optional(),
  currentImage: z.string().optional().describe('repo:version@digest as written to the workloads.'),
  lastEvent: z
    .object({
      source: z.string(),
      digest: z.string().optional(),
      receivedAt: Time,
    })
    .optional()
    .describe('The last push event seen for the followed tag.'),
  lastPollAt: Time.optional(),
  lastRollout: z
    .object({
      version: z.string(),
      digest: z.string(),
      startedAt: Time,
      finishedAt: Time.optional(),
      result: z.enum(ROLLOUT_RESULTS),
      message: z.string().default(''),
    })
    .optional(),
  failedDigests: z
    .array(z.string())
    .optional()
    .describe('Digests that failed; never redeployed automatically.'),
  rollout: RolloutStateSchema.optional().describe(
    'The rollout in flight, if any: strategy, phase, step, target and what it touched.',
  ),
  lastRequest: z
    .object({
      value: z.string().describe('The cvm.dev/request annotation as handled.'),
      action: z.string(),
      at: Time,
      result: z.enum(['Applied', 'Refused']),
      message: z.string().default(''),
    })
    .optional()
    .describe(
      'The last request (promote, resume, abort, retry, sync, rollback) cvm handled, and what it did.',
    ),
  conditions: z.array(ConditionSchema).optional(),
});

export type ContainerVersionSpec = z.output<typeof ContainerVersionSpecSchema>;
export type ContainerVersionSpecInput = z.input<typeof ContainerVersionSpecSchema>;
export type NotifySpec = z.output<typeof Notify>;
export type ContainerVersionStatus = z.output<typeof ContainerVersionStatusSchema>;
export type Condition = z.output<typeof ConditionSchema>;
export type RolloutState = z.output<typeof RolloutStateSchema>;
export type RolloutWorkload = z.output<typeof RolloutWorkloadSchema>;
export type RolloutVerify = z.output<typeof RolloutVerifySchema>;
export type BlueGreenState = z.output<typeof BlueGreenStateSchema>;
export type CanaryState = z.output<typeof CanaryStateSchema>;
export type MetricRun = z.output<typeof MetricRunSchema>;
export type Measurement = z.output<typeof MeasurementSchema>;
export type RolloutRequest = (typeof ROLLOUT_REQUESTS)[number];
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];
export type RolloutFinalResult = (typeof ROLLOUT_FINAL_RESULTS)[number];

/** A ContainerVersion as read from the API server, with a validated spec. */
export interface ContainerVersion {
  apiVersion: typeof CV_API_VERSION;
  kind: typeof CV_KIND;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: ContainerVersionSpec;
  status?: ContainerVersionStatus;
}
