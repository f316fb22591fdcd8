import { z } from 'zod';
import {
  ContainerVersionSpecSchema,
  ContainerVersionStatusSchema,
  ROLLOUT_PHASES,
  STRATEGY_TYPES,
} from '../api/container-version.js';
import { CV_STATES } from '../api/cv-state.js';

// The REST API's bodies (`/api/v1`): one Zod schema each, the source of the OpenAPI document
// (`openapi.ts`) and of the request validation. Responses are built to these shapes; a test
// checks real responses against the document.

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const ErrorSchema = z.object({
  error: z.string().describe('A short code: not found, bad request, conflict, unauthorized…'),
  message: z.string().describe('What was wrong, naming the field when a field was.'),
});

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'] as const;

const RolloutSummarySchema = z.object({
  strategy: z.enum(STRATEGY_TYPES),
  phase: z.enum(ROLLOUT_PHASES),
  step: z.number().int().describe('Step n of `steps`.'),
  steps: z.number().int(),
  version: z.string(),
  digest: z.string(),
  message: z.string(),
});

const LastRolloutSchema = z.object({
  result: z.string().describe('Succeeded, Failed, RolledBack, Superseded or Progressing.'),
  version: z.string(),
  digest: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  message: z.string(),
});

export const WorkloadRowSchema = z.object({
  namespace: z.string(),
  kind: z.enum(WORKLOAD_KINDS),
  name: z.string(),
  container: z.string(),
  containerVersion: z
    .object({ namespace: z.string(), name: z.string() })
    .describe('The CV that manages this workload.'),
  version: z.string().optional().describe('The version its container runs (the image tag).'),
  digest: z.string().optional().describe('The digest its container runs.'),
  image: z.string().optional().describe("The container's image as written on the workload."),
  replicas: z
    .object({
      desired: z.number().int().nullable(),
      ready: z.number().int().nullable(),
      updated: z.number().int().nullable(),
    })
    .describe('null for CronJobs, which have no replicas.'),
  state: z.enum(CV_STATES),
  rollout: RolloutSummarySchema.optional().describe("The CV's rollout in flight, if any."),
  lastRollout: LastRolloutSchema.optional(),
});

export const WorkloadListSchema = z.object({ items: z.array(WorkloadRowSchema) });

export const ContainerVersionViewSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z
    .object({
      namespace: z.string(),
      name: z.string(),
      uid: z.string(),
      generation: z.number().int(),
      resourceVersion: z.string(),
      creationTimestamp: z.string().optional(),
      annotations: z.record(z.string(), z.string()).optional(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .loose(),
  spec: ContainerVersionSpecSchema.describe('The spec as stored (defaults not applied).'),
  status: ContainerVersionStatusSchema.optional(),
  state: z.enum(CV_STATES),
});

export const ContainerVersionListSchema = z.object({ items: z.array(ContainerVersionViewSchema) });

export const HistoryEntrySchema = z.object({
  id: z.string(),
  version: z.string(),
  digest: z.string(),
  image: z.string(),
  previousImage: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  result: z.enum(['Succeeded', 'Failed', 'RolledBack', 'Superseded']),
  message: z.string(),
  trigger: z.string(),
  workloads: z.array(z.string()),
});

export const HistoryPageSchema = z.object({
  items: z.array(HistoryEntrySchema).describe('Newest first.'),
  continue: z.string().optional().describe('Pass as `continue` for the next page.'),
});

export const EventListSchema = z.object({
  items: z.array(
    z.object({
      type: z.string(),
      reason: z.string(),
      message: z.string(),
      count: z.number().int(),
      firstTimestamp: z.string().optional(),
      lastTimestamp: z.string().optional(),
      involvedObject: z.object({
        kind: z.string(),
        namespace: z.string().optional(),
        name: z.string(),
      }),
    }),
  ),
});

export const RequestAcceptedSchema = z.object({
  request: z.string().describe('The cvm.dev/request annotation written.'),
  message: z.string(),
  lastRequest: ContainerVersionStatusSchema.shape.lastRequest.describe(
    'With `?wait=true`: the outcome, once cvm handled the request.',
  ),
});

export const SuspendResultSchema = z.object({ suspend: z.boolean(), message: z.string() });

export const RollbackBodySchema = z
  .strictObject({
    version: z.string().min(1).optional().describe('A version from the history.'),
    digest: z
      .string()
      .regex(DIGEST, { error: 'digest must be sha256: and 64 hex digits' })
      .optional()
      .describe('A digest from the history.'),
    force: z.boolean().optional().describe('Needed to roll back to a digest in failedDigests.'),
  })
  .refine((b) => b.version === undefined || b.digest === undefined, {
    error: 'give version or digest, not both',
    path: ['digest'],
  });

export const QueueListSchema = z.object({
  items: z.array(
    z
      .object({
        queue: z.string(),
        waiting: z.number().int(),
        active: z.number().int(),
        delayed: z.number().int(),
        failed: z.number().int(),
        completed: z.number().int(),
      })
      .loose(),
  ),
  board: z.string().describe('Path of the queue board.'),
});

export type WorkloadRow = z.infer<typeof WorkloadRowSchema>;
export type RollbackBody = z.infer<typeof RollbackBodySchema>;
