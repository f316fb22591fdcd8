import { z } from 'zod';
import { NOTIFY_EVENTS } from '../api/container-version.js';

/** How a secret value is shown by `cvm config` and in logs. */
type Secret = 'none' | 'whole' | 'url-password';

interface KeySpec<T extends z.ZodType> {
  env: `CVM_${string}`;
  description: string;
  /** The unit people type: seconds, milliseconds, port, URL, … */
  unit: string;
  /** The default as it would be written in the environment; undefined when the key is optional. */
  default: string | undefined;
  secret: Secret;
  schema: T;
}

const key = <T extends z.ZodType>(spec: KeySpec<T>): KeySpec<T> => spec;

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be between ${min} and ${max}` })
    .max(max, { error: `must be between ${min} and ${max}` });
const port = integer(1, 65_535);
/** Comma-separated secrets; several at once so that a secret can be rotated without downtime. */
const secretList = z
  .string()
  .optional()
  .transform((text) =>
    (text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every((s) => s.length >= 16), {
    error: 'every secret must be at least 16 characters',
  });
const sourceSecrets = (env: `CVM_${string}`, what: string) =>
  key({
    env,
    description: `${what} Comma-separated, several for rotation; unset disables the endpoint.`,
    unit: 'secrets',
    default: undefined,
    secret: 'whole',
    schema: secretList,
  });
const positiveMs = integer(1, 3_600_000);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
/** `host:port,host:port` (port 26379 if left out); each item comes out as `host:port`. */
const sentinelList = z
  .string()
  .optional()
  .transform((text, ctx): string[] => {
    const items = (text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const parsed: string[] = [];
    for (const item of items) {
      const match = /^(\[[0-9a-fA-F:]+\]|[^:\s[\]]+)(?::(\d{1,5}))?$/.exec(item);
      const port = Number(match?.[2] ?? 26_379);
      if (!match || port < 1 || port > 65_535) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
        return z.NEVER;
      }
      parsed.push(`${match[1]!}:${port}`);
    }
    return parsed;
  });

/**
 * Every configuration key of cvm: environment name, description, unit, default and schema.
 * The README's configuration table lists the same keys (a test keeps them in step).
 */
export const CONFIG_KEYS = {
  redisUrl: key({
    env: 'CVM_REDIS_URL',
    description:
      'Redis that holds the BullMQ queues (redis:// or rediss://; a password in the URL is masked).',
    unit: 'URL',
    default: 'redis://127.0.0.1:6379',
    secret: 'url-password',
    schema: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
  }),
  redisConnectTimeoutMs: key({
    env: 'CVM_REDIS_CONNECT_TIMEOUT_MS',
    description: 'Time a Redis connection attempt may take before it counts as failed.',
    unit: 'milliseconds',
    default: '2000',
    secret: 'none',
    schema: positiveMs,
  }),
  redisPassword: key({
    env: 'CVM_REDIS_PASSWORD',
    description:
      'Password of the Redis primary and replicas; overrides a password in CVM_REDIS_URL, so that the URL holds no secret.',
    unit: 'secret',
    default: undefined,
    secret: 'whole',
    schema: z.string().min(1).optional(),
  }),
  redisTlsCaFile: key({
    env: 'CVM_REDIS_TLS_CA_FILE',
    description:
      "PEM CA bundle that signed the TLS certificates of Redis and its sentinels (rediss://). Unset: the system's CAs.",
    unit: 'path',
    default: undefined,
    secret: 'none',
    schema: z.string().min(1).optional(),
  }),
  redisSentinels: key({
    env: 'CVM_REDIS_SENTINELS',
    description:
      'Sentinels as host:port,… (port 26379 if left out). Set: cvm asks them for the primary and follows failovers; CVM_REDIS_URL gives scheme, password, db.',
    unit: 'addresses',
    default: undefined,
    secret: 'none',
    schema: sentinelList,
  }),
  redisSentinelMaster: key({
    env: 'CVM_REDIS_SENTINEL_MASTER',
    description: 'Name of the primary the sentinels monitor (sentinel monitor <name> …).',
    unit: 'name',
    default: 'mymaster',
    secret: 'none',
    schema: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'must be a sentinel master name' }),
  }),
  redisSentinelPassword: key({
    env: 'CVM_REDIS_SENTINEL_PASSWORD',
    description:
      'Password of the sentinels themselves, if they require one. Sentinels speak TLS when CVM_REDIS_URL is rediss://.',
    unit: 'secret',
    default: undefined,
    secret: 'whole',
    schema: z.string().min(1).optional(),
  }),
  redisIntakeReplicas: key({
    env: 'CVM_REDIS_INTAKE_REPLICAS',
    description:
      'Replicas that must confirm an accepted event (Redis WAIT) before the 202; fewer answer 503 and the sender retries. 1 or more with Sentinel.',
    unit: 'replicas',
    default: '0',
    secret: 'none',
    schema: integer(0, 16),
  }),
  queuePrefix: key({
    env: 'CVM_QUEUE_PREFIX',
    description: 'Prefix of every BullMQ key in Redis; processes that share queues must share it.',
    unit: 'text',
    default: 'cvm',
    secret: 'none',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_{}-]+$/, { error: 'may contain only letters, digits, _, -, { and }' })
      .max(64),
  }),
  webhookPort: key({
    env: 'CVM_WEBHOOK_PORT',
    description: 'Port of the webhook receiver (only webhooks are served there).',
    unit: 'TCP port',
    default: '8080',
    secret: 'none',
    schema: port,
  }),
  opsPort: key({
    env: 'CVM_OPS_PORT',
    description:
      'Port of the ops server: /healthz, /readyz, /metrics, the queue board and the REST API (/api/v1).',
    unit: 'TCP port',
    default: '8081',
    secret: 'none',
    schema: port,
  }),
  listenHost: key({
    env: 'CVM_LISTEN_HOST',
    description: 'Address the webhook and ops servers bind to.',
    unit: 'IP address',
    default: '0.0.0.0',
    secret: 'none',
    schema: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }),
  }),
  opsToken: key({
    env: 'CVM_OPS_TOKEN',
    description:
      'Token the ops API requires (bearer, or basic-auth password for pages). Unset: ops API disabled except health.',
    unit: 'secret',
    default: undefined,
    secret: 'whole',
    schema: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  }),
  adminToken: key({
    env: 'CVM_ADMIN_TOKEN',
    description:
      'Token that reads what CVM_OPS_TOKEN reads and may also retry, clean and promote on the queue board (bearer or basic auth). Unset: read-only.',
    unit: 'secret',
    default: undefined,
    secret: 'whole',
    schema: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  }),
  webhookBodyLimitBytes: key({
    env: 'CVM_WEBHOOK_BODY_LIMIT_BYTES',
    description: 'Largest webhook body accepted; larger ones get 413.',
    unit: 'bytes',
    default: '1048576',
    secret: 'none',
    schema: integer(1_024, 26_214_400),
  }),
  maxEventsPerDelivery: key({
    env: 'CVM_MAX_EVENTS_PER_DELIVERY',
    description:
      'Most deployable events one webhook delivery or SQS message may hold (a Quay push of many tags); more get 413 and nothing is enqueued.',
    unit: 'events',
    default: '1000',
    secret: 'none',
    schema: integer(1, 10_000),
  }),
  ecrApiKeys: sourceSecrets(
    'CVM_ECR_API_KEYS',
    'API keys of POST /webhooks/ecr (EventBridge API destination).',
  ),
  ecrApiKeyHeader: key({
    env: 'CVM_ECR_API_KEY_HEADER',
    description:
      "Header that carries the ECR API key (the API destination connection's API key name).",
    unit: 'header name',
    default: 'x-api-key',
    secret: 'none',
    schema: z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'must be a header name' }),
  }),
  dockerhubTokens: sourceSecrets(
    'CVM_DOCKERHUB_TOKENS',
    'Path tokens of POST /webhooks/dockerhub/<token>.',
  ),
  quayTokens: sourceSecrets('CVM_QUAY_TOKENS', 'Path tokens of POST /webhooks/quay/<token>.'),
  ghcrSecrets: sourceSecrets(
    'CVM_GHCR_SECRETS',
    'GitHub webhook secrets of POST /webhooks/ghcr (X-Hub-Signature-256).',
  ),
  harborTokens: sourceSecrets(
    'CVM_HARBOR_TOKENS',
    'Harbor "Auth Header" values (Authorization: [Bearer] <token>) of POST /webhooks/harbor.',
  ),
  acrTokens: sourceSecrets(
    'CVM_ACR_TOKENS',
    'Tokens of POST /webhooks/acr, sent as the custom header Authorization: Bearer <token>.',
  ),
  garTokens: sourceSecrets(
    'CVM_GAR_TOKENS',
    'Path tokens of POST /webhooks/gar/<token> (Pub/Sub push subscription).',
  ),
  garOidcAudience: key({
    env: 'CVM_GAR_OIDC_AUDIENCE',
    description:
      'Audience of the OIDC token of a Pub/Sub push (--push-auth-token-audience); set, POST /webhooks/gar verifies that token. Unset: path tokens only.',
    unit: 'text',
    default: undefined,
    secret: 'none',
    schema: z.string().min(1).optional(),
  }),
  garOidcEmails: key({
    env: 'CVM_GAR_OIDC_EMAILS',
    description:
      'Service accounts (--push-auth-service-account) the OIDC token may name as email, comma-separated; required with CVM_GAR_OIDC_AUDIENCE.',
    unit: 'emails',
    default: undefined,
    secret: 'none',
    schema: z
      .string()
      .optional()
      .transform((text) =>
        (text ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every((s) => /^[^@\s]+@[^@\s]+$/.test(s)), {
        error: 'must be comma-separated email addresses',
      }),
  }),
  garOidcIssuer: key({
    env: 'CVM_GAR_OIDC_ISSUER',
    description:
      'Issuers (iss) the OIDC token may name, comma-separated. Unset: https://accounts.google.com, as Pub/Sub signs.',
    unit: 'URLs',
    default: undefined,
    secret: 'none',
    schema: z
      .string()
      .optional()
      .transform((text) =>
        (text ?? 'https://accounts.google.com')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
  }),
  garOidcJwksUrl: key({
    env: 'CVM_GAR_OIDC_JWKS_URL',
    description:
      "The issuer's signing keys (JWKS), fetched and cached. Unset: Google's, https://www.googleapis.com/oauth2/v3/certs.",
    unit: 'URL',
    default: undefined,
    secret: 'none',
    schema: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  }),
  distributionTokens: sourceSecrets(
    'CVM_DISTRIBUTION_TOKENS',
    'Bearer tokens of POST /webhooks/distribution (notifications endpoint headers).',
  ),
  genericSecrets: sourceSecrets(
    'CVM_GENERIC_SECRETS',
    'HMAC secrets of POST /webhooks/generic (X-Cvm-Signature-256).',
  ),
  sqsQueueUrl: key({
    env: 'CVM_SQS_QUEUE_URL',
    description: 'SQS queue the ECR EventBridge rule delivers to. Unset: no SQS consumer.',
    unit: 'URL',
    default: undefined,
    secret: 'none',
    schema: z.url().optional(),
  }),
  sqsEndpoint: key({
    env: 'CVM_SQS_ENDPOINT',
    description: 'SQS endpoint override (moto, LocalStack). Unset: the AWS endpoint of the region.',
    unit: 'URL',
    default: undefined,
    secret: 'none',
    schema: z.url().optional(),
  }),
  sqsWaitSeconds: key({
    env: 'CVM_SQS_WAIT_SECONDS',
    description: 'Long-poll wait of each SQS receive.',
    unit: 'seconds',
    default: '20',
    secret: 'none',
    schema: integer(0, 20),
  }),
  sqsVisibilityTimeoutSeconds: key({
    env: 'CVM_SQS_VISIBILITY_TIMEOUT_SECONDS',
    description:
      'Time a received SQS message stays hidden before it is delivered again if not deleted.',
    unit: 'seconds',
    default: '60',
    secret: 'none',
    schema: integer(1, 43_200),
  }),
  rolloutConcurrency: key({
    env: 'CVM_ROLLOUT_CONCURRENCY',
    description:
      'Rollout steps one worker process runs at once. A waiting rollout holds none (each CV has at most one step running in all processes).',
    unit: 'jobs',
    default: '16',
    secret: 'none',
    schema: integer(1, 256),
  }),
  routeConcurrency: key({
    env: 'CVM_ROUTE_CONCURRENCY',
    description: 'Push events one worker process routes at once.',
    unit: 'jobs',
    default: '8',
    secret: 'none',
    schema: integer(1, 256),
  }),
  jobLockMs: key({
    env: 'CVM_JOB_LOCK_MS',
    description:
      'Lock of a running job step; another worker takes over a step whose worker died after this long (a waiting rollout holds no lock).',
    unit: 'milliseconds',
    default: '15000',
    secret: 'none',
    schema: integer(1_000, 600_000),
  }),
  stalledCheckMs: key({
    env: 'CVM_STALLED_CHECK_MS',
    description: 'How often a worker looks for jobs whose lock expired.',
    unit: 'milliseconds',
    default: '5000',
    secret: 'none',
    schema: integer(1_000, 600_000),
  }),
  rolloutAttempts: key({
    env: 'CVM_ROLLOUT_ATTEMPTS',
    description:
      'Attempts of a rollout step that keeps failing (registry or API server errors) before its job fails; the leader then polls its tag again after CVM_RECHECK_SECONDS.',
    unit: 'attempts',
    default: '10',
    secret: 'none',
    schema: integer(1, 100),
  }),
  rolloutBackoffMs: key({
    env: 'CVM_ROLLOUT_BACKOFF_MS',
    description:
      'First delay between attempts of a failing rollout step; it doubles each attempt, with jitter.',
    unit: 'milliseconds',
    default: '2000',
    secret: 'none',
    schema: integer(10, 600_000),
  }),
  rolloutRecheckMs: key({
    env: 'CVM_ROLLOUT_RECHECK_MS',
    description:
      'Longest a waiting rollout goes unread when no watch event about its workloads or verify Jobs came.',
    unit: 'milliseconds',
    default: '10000',
    secret: 'none',
    schema: integer(100, 600_000),
  }),
  kubeRequestTimeoutMs: key({
    env: 'CVM_KUBE_REQUEST_TIMEOUT_MS',
    description:
      'Longest a Kubernetes API request (not a watch) may take before it is abandoned as failed.',
    unit: 'milliseconds',
    default: '10000',
    secret: 'none',
    schema: integer(100, 600_000),
  }),
  pollTickMs: key({
    env: 'CVM_POLL_TICK_MS',
    description: 'How often the leader looks for repo:tags whose poll is due.',
    unit: 'milliseconds',
    default: '1000',
    secret: 'none',
    schema: integer(100, 600_000),
  }),
  recheckSeconds: key({
    env: 'CVM_RECHECK_SECONDS',
    description:
      'Delay before the leader polls a repo:tag once more (push-only CVs included) after a push for it ran out of retries, or after such a poll or a recovery check failed.',
    unit: 'seconds',
    default: '60',
    secret: 'none',
    schema: integer(1, 86_400),
  }),
  pollMaxPerTick: key({
    env: 'CVM_POLL_MAX_PER_TICK',
    description:
      'Most registry polls started in one tick; the rest wait for the next tick (spreads polls over time).',
    unit: 'requests',
    default: '20',
    secret: 'none',
    schema: integer(1, 10_000),
  }),
  driftCheckSeconds: key({
    env: 'CVM_DRIFT_CHECK_SECONDS',
    description:
      "How often the leader compares the selected workloads with each CV's current image.",
    unit: 'seconds',
    default: '30',
    secret: 'none',
    schema: integer(1, 86_400),
  }),
  leaseNamespace: key({
    env: 'CVM_LEASE_NAMESPACE',
    description: 'Namespace of the coordination.k8s.io Lease that elects the reconciler leader.',
    unit: 'namespace',
    default: 'default',
    secret: 'none',
    schema: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'must be a namespace name' }),
  }),
  leaseDurationSeconds: key({
    env: 'CVM_LEASE_DURATION_SECONDS',
    description:
      'How long a reconciler leader holds the Lease without renewing it; another takes over after it.',
    unit: 'seconds',
    default: '15',
    secret: 'none',
    schema: integer(2, 600),
  }),
  registryAuthFile: key({
    env: 'CVM_REGISTRY_AUTH_FILE',
    description:
      'A .dockerconfigjson file (a mounted kubernetes.io/dockerconfigjson Secret) with registry credentials.',
    unit: 'path',
    default: undefined,
    secret: 'none',
    schema: z.string().min(1).optional(),
  }),
  cosignPublicKeyFile: key({
    env: 'CVM_COSIGN_PUBLIC_KEY_FILE',
    description:
      'PEM public key; when set, every image must carry a cosign signature made with its private key.',
    unit: 'path',
    default: undefined,
    secret: 'none',
    schema: z.string().min(1).optional(),
  }),
  dashboardUrl: key({
    env: 'CVM_DASHBOARD_URL',
    description:
      'Where people open the dashboard (the ops port as they reach it); notifications link to <url>/#/cv/<namespace>/<name>. Unset: no link.',
    unit: 'URL',
    default: undefined,
    secret: 'none',
    schema: httpUrl.optional(),
  }),
  notifySlackUrl: key({
    env: 'CVM_NOTIFY_SLACK_URL',
    description: 'Slack incoming webhook that gets rollout notifications. Unset: no Slack.',
    unit: 'URL',
    default: undefined,
    secret: 'whole',
    schema: httpUrl.optional(),
  }),
  notifyTeamsUrl: key({
    env: 'CVM_NOTIFY_TEAMS_URL',
    description:
      'Microsoft Teams webhook (a Workflows "webhook request" flow, or a legacy incoming webhook) that gets rollout notifications as Adaptive Cards. Unset: no Teams.',
    unit: 'URL',
    default: undefined,
    secret: 'whole',
    schema: httpUrl.optional(),
  }),
  notifyWebhookUrl: key({
    env: 'CVM_NOTIFY_WEBHOOK_URL',
    description:
      'Generic JSON webhook that gets rollout notifications, signed with CVM_NOTIFY_WEBHOOK_SECRET (README, Notifications). Unset: none.',
    unit: 'URL',
    default: undefined,
    secret: 'url-password',
    schema: httpUrl.optional(),
  }),
  notifyWebhookSecret: key({
    env: 'CVM_NOTIFY_WEBHOOK_SECRET',
    description:
      'HMAC-SHA256 secret of the generic webhook (X-Cvm-Signature-256); required with CVM_NOTIFY_WEBHOOK_URL.',
    unit: 'secret',
    default: undefined,
    secret: 'whole',
    schema: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  }),
  notifyEvents: key({
    env: 'CVM_NOTIFY_EVENTS',
    description: `Events the sinks get, comma-separated: ${NOTIFY_EVENTS.join(', ')}. A CV's spec.notify may narrow them.`,
    unit: 'events',
    default: NOTIFY_EVENTS.join(','),
    secret: 'none',
    schema: z
      .string()
      .transform((text) =>
        text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z.enum(NOTIFY_EVENTS, { error: `each event must be one of ${NOTIFY_EVENTS.join(', ')}` }),
        ),
      ),
  }),
  notifyTimeoutMs: key({
    env: 'CVM_NOTIFY_TIMEOUT_MS',
    description:
      'Longest one request to a notification sink may take; a sink that hangs fails the attempt, which is retried.',
    unit: 'milliseconds',
    default: '10000',
    secret: 'none',
    schema: integer(100, 120_000),
  }),
  notifyAttempts: key({
    env: 'CVM_NOTIFY_ATTEMPTS',
    description:
      'Attempts of a notification whose sink fails (5xx, timeout) before it stays in the failed set of the notifications queue.',
    unit: 'attempts',
    default: '15',
    secret: 'none',
    schema: integer(1, 100),
  }),
  notifyBackoffMs: key({
    env: 'CVM_NOTIFY_BACKOFF_MS',
    description:
      'First delay between attempts of a notification; it doubles each attempt (15 attempts from 2 s span about 18 h).',
    unit: 'milliseconds',
    default: '2000',
    secret: 'none',
    schema: integer(10, 600_000),
  }),
  notifyConcurrency: key({
    env: 'CVM_NOTIFY_CONCURRENCY',
    description:
      'Notifications one worker process sends at once (a sink that hangs holds one until CVM_NOTIFY_TIMEOUT_MS).',
    unit: 'jobs',
    default: '8',
    secret: 'none',
    schema: integer(1, 256),
  }),
  ecrEndpoint: key({
    env: 'CVM_ECR_ENDPOINT',
    description:
      "ECR API endpoint override (moto, LocalStack). Unset: the AWS endpoint of the registry's region.",
    unit: 'URL',
    default: undefined,
    secret: 'none',
    schema: z.url().optional(),
  }),
  kubeconfig: key({
    env: 'CVM_KUBECONFIG',
    description:
      'Kubeconfig file. Unset: in-cluster service account, else $KUBECONFIG, else ~/.kube/config.',
    unit: 'path',
    default: undefined,
    secret: 'none',
    schema: z.string().min(1).optional(),
  }),
  logLevel: key({
    env: 'CVM_LOG_LEVEL',
    description: 'Lowest level logged: trace, debug, info, warn, error, fatal or silent.',
    unit: 'level',
    default: 'info',
    secret: 'none',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  }),
  shutdownTimeoutMs: key({
    env: 'CVM_SHUTDOWN_TIMEOUT_MS',
    description:
      'Time allowed for a graceful stop on SIGTERM/SIGINT before the process exits anyway.',
    unit: 'milliseconds',
    default: '25000',
    secret: 'none',
    schema: positiveMs,
  }),
} as const;

type Keys = typeof CONFIG_KEYS;
/** The effective, validated and frozen configuration. */
export type Config = Readonly<{ [K in keyof Keys]: z.output<Keys[K]['schema']> }>;
export type ConfigKey = keyof Keys;

/** Thrown by {@link loadConfig}; its message names every bad key. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const entries = Object.entries(CONFIG_KEYS) as [ConfigKey, KeySpec<z.ZodType>][];
const knownEnv = new Set(entries.map(([, spec]) => spec.env));

/**
 * Reads the `CVM_*` variables of `env`, validates them and returns the frozen configuration.
 * An empty variable counts as unset. Unknown `CVM_*` variables are errors (a typo must not
 * silently fall back to a default).
 * @throws ConfigError naming every bad or unknown key at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, spec] of entries) {
    const raw = env[spec.env] === '' ? undefined : env[spec.env];
    const result = spec.schema.safeParse(raw ?? spec.default);
    if (result.success) values[name] = result.data;
    else {
      const shown = spec.secret === 'none' ? ` (got ${JSON.stringify(raw)})` : '';
      problems.push(`${spec.env}: ${result.error.issues[0]?.message ?? 'invalid'}${shown}`);
    }
  }
  problems.push(...crossKeyProblems(values));
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith('CVM_') && !knownEnv.has(name as `CVM_${string}`))
      problems.push(`${name}: unknown key`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as Config;
}

/** Rules that involve two keys; checked once every key parsed on its own. */
function crossKeyProblems(values: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (values.adminToken !== undefined && values.adminToken === values.opsToken)
    problems.push(
      'CVM_ADMIN_TOKEN: must differ from CVM_OPS_TOKEN (else every reader is an admin)',
    );
  const emails = values.garOidcEmails;
  if (values.garOidcAudience !== undefined && Array.isArray(emails) && emails.length === 0)
    problems.push(
      'CVM_GAR_OIDC_EMAILS: required with CVM_GAR_OIDC_AUDIENCE (any Google service account could sign otherwise)',
    );
  if (values.notifyWebhookUrl !== undefined && values.notifyWebhookSecret === undefined)
    problems.push(
      'CVM_NOTIFY_WEBHOOK_SECRET: required with CVM_NOTIFY_WEBHOOK_URL (the body is always signed)',
    );
  return problems;
}

/** Every config value is a scalar. */
export type ConfigValue = string | number | boolean | readonly string[] | undefined;

function mask(value: ConfigValue, secret: Secret): ConfigValue {
  if (value === undefined || secret === 'none') return value;
  if (secret === 'whole') {
    if (!Array.isArray(value)) return '********';
    return value.length === 0 ? [] : value.map(() => '********');
  }
  const url = new URL(String(value));
  if (url.password) url.password = '********';
  return url.toString();
}

export interface ConfigEntry {
  key: ConfigKey;
  env: string;
  value: ConfigValue;
  default: string | undefined;
  unit: string;
  description: string;
}

/** The configuration as people may see it: every key, its value with secrets masked, and its docs. */
export function describeConfig(config: Config): ConfigEntry[] {
  return entries.map(([name, spec]) => ({
    key: name,
    env: spec.env,
    value: mask(config[name] as ConfigValue, spec.secret),
    default: spec.default,
    unit: spec.unit,
    description: spec.description,
  }));
}
