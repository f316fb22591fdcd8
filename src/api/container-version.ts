import { z } from 'zod';
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
        'Command of the check Job. The image, version and digest under test are in CVM_IMAGE, CVM_VERSION and CVM_DIGEST.',
      ),
    args: z.array(z.string()).optional().describe('Arguments of the command.'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .describe('Seconds the Job may run before the check fails.'),
  })
  .describe('A check that must succeed before traffic moves: a Job that must complete.');

const Strategy = z
  .object({
    type: z
      .enum(STRATEGY_TYPES)
      .default('Rolling')
      .describe(
        "Rolling uses the workload's own update strategy; BlueGreen and Canary are run by cvm.",
      ),
    blueGreen: z
      .object({
        activeService: dnsLabel('strategy.blueGreen.activeService').describe(
          'Service whose selector is switched to the new colour.',
        ),
        previewService: dnsLabel('strategy.blueGreen.previewService')
          .optional()
          .describe('Service that points at the idle colour, for verify checks.'),
        scaleDownDelaySeconds: z
          .number()
          .int()
          .min(0)
          .default(30)
          .describe('Seconds the old colour keeps running after the switch.'),
      })
      .optional()
      .describe('Required when type is BlueGreen.'),
    canary: z
      .object({
        replicasPercent: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(10)
          .describe('Share of replicas that take the new version first, in percent.'),
        judgeSeconds: z
          .number()
          .int()
          .min(0)
          .default(60)
          .describe('Seconds the canary must stay ready without restarts before the rest follows.'),
      })
      .optional()
      .describe('Options of the Canary strategy.'),
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
  'RollingBack',
  'Recording',
] as const;

const RolloutWorkloadSchema = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob']),
  name: z.string(),
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
  conditions: z.array(ConditionSchema).optional(),
});

export type ContainerVersionSpec = z.output<typeof ContainerVersionSpecSchema>;
export type ContainerVersionSpecInput = z.input<typeof ContainerVersionSpecSchema>;
export type ContainerVersionStatus = z.output<typeof ContainerVersionStatusSchema>;
export type Condition = z.output<typeof ConditionSchema>;
export type RolloutState = z.output<typeof RolloutStateSchema>;
export type RolloutWorkload = z.output<typeof RolloutWorkloadSchema>;
export type RolloutVerify = z.output<typeof RolloutVerifySchema>;
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
