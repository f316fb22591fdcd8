import { z } from 'zod';
import {
  ContainerVersionListSchema,
  ContainerVersionViewSchema,
  ErrorSchema,
  EventListSchema,
  HistoryPageSchema,
  QueueListSchema,
  RequestAcceptedSchema,
  RollbackBodySchema,
  SuspendResultSchema,
  WorkloadListSchema,
} from './api-schemas.js';

/** The named schemas of the document (`#/components/schemas/<name>`). */
const COMPONENTS = {
  Error: ErrorSchema,
  WorkloadList: WorkloadListSchema,
  ContainerVersion: ContainerVersionViewSchema,
  ContainerVersionList: ContainerVersionListSchema,
  HistoryPage: HistoryPageSchema,
  EventList: EventListSchema,
  QueueList: QueueListSchema,
  RequestAccepted: RequestAcceptedSchema,
  SuspendResult: SuspendResultSchema,
  RollbackRequest: RollbackBodySchema,
} as const;

type ComponentName = keyof typeof COMPONENTS;

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const errors = {
  '401': json('Error', 'No credentials, or wrong ones.'),
  '404': json('Error', 'No such ContainerVersion.'),
};
const actionErrors = {
  ...errors,
  '400': json('Error', 'A bad body or parameter; the message names the field.'),
  '403': json('Error', 'The ops token reads only; actions need the admin token.'),
  '409': json('Error', 'Not applicable now (the message says why: suspended, nothing in flight…).'),
};
const cvParams = [
  { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } },
  { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
];
const waitParam = {
  name: 'wait',
  in: 'query',
  required: false,
  schema: { type: 'string', enum: ['true'] },
  description: 'Wait (up to 10 s) for cvm to handle the request; answers 200 with the outcome.',
};

const requestAction = (summary: string) => ({
  post: {
    summary,
    parameters: [...cvParams, waitParam],
    responses: {
      '200': json(
        'RequestAccepted',
        'Handled (with ?wait=true): lastRequest says Applied or Refused.',
      ),
      '202': json('RequestAccepted', 'Requested: status.lastRequest shows the outcome.'),
      ...actionErrors,
    },
  },
});

/**
 * The OpenAPI 3.1 document of `/api/v1`, built from the Zod schemas the handlers answer with
 * (JSON Schema 2020-12, the dialect of OpenAPI 3.1). Served at `/api/v1/openapi.json`.
 */
export function buildOpenApiDocument() {
  const schemas = Object.fromEntries(
    Object.entries(COMPONENTS).map(([name, schema]) => {
      const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
        target: 'draft-2020-12',
        io: 'output',
        unrepresentable: 'any',
      }) as Record<string, unknown>;
      void _dialect;
      return [name, rest];
    }),
  );
  const cv = '/containerversions/{namespace}/{name}';
  return {
    openapi: '3.1.0',
    info: {
      title: 'cvm REST API',
      version: 'v1',
      description:
        'What cvm manages and what it did, and actions on ContainerVersions. Send the ops token (reads) or the admin token (reads and actions) as `Authorization: Bearer <token>`.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { basic: [] }],
    paths: {
      '/workloads': {
        get: {
          summary: 'Every workload a ContainerVersion manages, with its version and state',
          responses: { '200': json('WorkloadList', 'Sorted by namespace, kind, name.'), ...errors },
        },
      },
      '/containerversions': {
        get: {
          summary: 'Every ContainerVersion',
          responses: {
            '200': json('ContainerVersionList', 'Sorted by namespace, name.'),
            ...errors,
          },
        },
      },
      [cv]: {
        get: {
          summary: 'One ContainerVersion: spec, status, conditions',
          parameters: cvParams,
          responses: {
            '200': json('ContainerVersion', 'The CV as stored, with its state.'),
            ...errors,
          },
        },
      },
      [`${cv}/history`]: {
        get: {
          summary: 'Its rollouts, newest first',
          parameters: [
            ...cvParams,
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
            { name: 'continue', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': json('HistoryPage', 'One page.'),
            '400': json('Error', 'A bad limit or continue.'),
            ...errors,
          },
        },
      },
      [`${cv}/events`]: {
        get: {
          summary: 'Its Kubernetes Events, newest first',
          parameters: cvParams,
          responses: { '200': json('EventList', 'The Events.'), ...errors },
        },
      },
      [`${cv}/sync`]: requestAction('Check the registry now (as a poll would)'),
      [`${cv}/promote`]: requestAction('Promote the rollout in flight (skip its remaining steps)'),
      [`${cv}/resume-rollout`]: requestAction('Move a paused rollout past its pause'),
      [`${cv}/abort`]: requestAction('Abort the rollout in flight: roll back now'),
      [`${cv}/retry`]: requestAction('Roll out again the digest whose rollout failed'),
      [`${cv}/rollback`]: {
        post: {
          summary:
            'Roll back to the previous good version, or to a version or digest of the history',
          parameters: [...cvParams, waitParam],
          requestBody: {
            required: false,
            content: { 'application/json': { schema: ref('RollbackRequest') } },
          },
          responses: {
            '200': json('RequestAccepted', 'Handled (with ?wait=true).'),
            '202': json('RequestAccepted', 'Requested.'),
            ...actionErrors,
          },
        },
      },
      [`${cv}/suspend`]: {
        post: {
          summary: 'Set spec.suspend: cvm rolls out nothing for it',
          parameters: cvParams,
          responses: { '200': json('SuspendResult', 'Suspended.'), ...actionErrors },
        },
      },
      [`${cv}/resume`]: {
        post: {
          summary: 'Clear spec.suspend',
          parameters: cvParams,
          responses: { '200': json('SuspendResult', 'Resumed.'), ...actionErrors },
        },
      },
      '/stream': {
        get: {
          summary: "Server-sent events of what changes (the dashboard's live updates)",
          description:
            'text/event-stream. Events carry identity, not objects: `hello` `{at}` once open; `cv` `{type, namespace, name, resourceVersion}` for each ContainerVersion added, updated or deleted; `workloads` `{changed: [{kind, namespace, name, deleted}]}` at most 4 a second; a `: heartbeat` comment every 15 s. Read what changed from the other routes.',
          responses: {
            '200': {
              description: 'The stream, open until the client or cvm closes it.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            '401': errors['401'],
          },
        },
      },
      '/queues': {
        get: {
          summary: 'Job counts of the queues',
          responses: { '200': json('QueueList', 'Per queue.'), ...errors },
        },
      },
    },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        basic: { type: 'http', scheme: 'basic' },
      },
    },
  };
}
