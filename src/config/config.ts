import { z } from 'zod';

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
const positiveMs = integer(1, 3_600_000);

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
      'Port of the ops server: REST API, dashboard, queue board, /metrics, /healthz, /readyz.',
    unit: 'TCP port',
    default: '8081',
    secret: 'none',
    schema: port,
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
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith('CVM_') && !knownEnv.has(name as `CVM_${string}`))
      problems.push(`${name}: unknown key`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as Config;
}

/** Every config value is a scalar. */
export type ConfigValue = string | number | boolean | undefined;

function mask(value: ConfigValue, secret: Secret): ConfigValue {
  if (value === undefined || secret === 'none') return value;
  if (secret === 'whole') return '********';
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
