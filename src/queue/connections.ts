import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { OutageLog } from '../observability/outage-log.js';

export type { Redis };

/** Where the sentinels are and which primary they watch (ioredis asks them for its address). */
export interface SentinelTarget {
  /** `host:port` of each sentinel; any one that answers is enough. */
  sentinels: readonly string[];
  /** The name of the monitored primary (`sentinel monitor <name> …`). */
  masterName: string;
  /** The sentinels' own password (their `requirepass`), if any. */
  password?: string | undefined;
}

export interface ConnectionOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). With {@link sentinel} only its
   * scheme, user, password and db count: the address comes from the sentinels.
   */
  url: string;
  /** Overrides the URL's password (a secret kept out of the URL). */
  password?: string | undefined;
  /** Follow a Sentinel-managed primary instead of the URL's host and port. */
  sentinel?: SentinelTarget | undefined;
  /** PEM CA bundle that signed the TLS certificates (rediss://); default the system's CAs. */
  tlsCaPem?: string | undefined;
  /** Time a connection attempt may take before it counts as failed. */
  connectTimeoutMs: number;
  logger: Logger;
  /** Shown in Redis `CLIENT LIST` and in logs. */
  name: string;
}

/** Reconnect after 100 ms, doubling up to 5 s: Redis restarts are survived, not fatal. */
export const reconnectDelayMs = (attempt: number): number =>
  Math.min(100 * 2 ** Math.min(attempt - 1, 6), 5_000);

const hostPort = (address: string): { host: string; port: number } => {
  const at = address.lastIndexOf(':');
  return {
    host: address.slice(0, at).replace(/^\[|\]$/g, ''),
    port: Number(address.slice(at + 1)),
  };
};

/**
 * The ioredis options of a connection, common to producers and workers: where (the URL's address,
 * or the primary the sentinels name), credentials, TLS, and how to reconnect. Pure; exported for
 * its table test.
 */
export function redisOptionsFor(options: Omit<ConnectionOptions, 'logger'>): RedisOptions {
  const url = new URL(options.url);
  const tls = url.protocol === 'rediss:';
  const tlsOptions = tls ? (options.tlsCaPem ? { ca: options.tlsCaPem } : {}) : undefined;
  const username = decodeURIComponent(url.username);
  const password = options.password ?? decodeURIComponent(url.password);
  const db = Number(url.pathname.slice(1) || 0);
  const common: RedisOptions = {
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: reconnectDelayMs,
    // A client that talks to a stale primary after a failover must reconnect, not fail forever.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
    // The ready check is where ioredis (in Sentinel mode) finds that the server it reached is not
    // the primary (a demoted one) and asks the sentinels again.
    enableReadyCheck: true,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(db ? { db } : {}),
    ...(tlsOptions ? { tls: tlsOptions } : {}),
  };
  const sentinel = options.sentinel;
  if (!sentinel || sentinel.sentinels.length === 0)
    return {
      ...common,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 6379),
    };
  return {
    ...common,
    sentinels: sentinel.sentinels.map(hostPort),
    name: sentinel.masterName,
    role: 'master',
    ...(sentinel.password ? { sentinelPassword: sentinel.password } : {}),
    // Without this ioredis speaks plain TCP to the primary even with `tls` set.
    ...(tlsOptions ? { enableTLSForSentinelMode: true, sentinelTLS: tlsOptions } : {}),
    sentinelRetryStrategy: reconnectDelayMs,
    // Subscribes to the sentinels' +switch-master: a failover is followed at once, not on the
    // next error of the old primary's socket.
    failoverDetector: true,
    sentinelCommandTimeout: options.connectTimeoutMs,
  };
}

/**
 * Logs connection errors once per outage instead of once per reconnect attempt (the first error,
 * then one line with the count and duration when the connection is back), and keeps ioredis from
 * printing "Unhandled error event".
 */
function watchHealth(redis: Redis, options: ConnectionOptions): Redis {
  const outage = new OutageLog(options.logger.child({ redis: options.name }), {
    failed: 'redis connection lost',
    recovered: 'redis connection restored',
  });
  redis.on('error', (error: Error) => outage.failed(error));
  redis.on('ready', () => outage.recovered());
  return redis;
}

/**
 * A connection for producers on a request path (the webhook receiver): commands fail at once while
 * Redis is unreachable instead of waiting in an offline queue, so the caller can answer 503 and the
 * sender retries. It keeps reconnecting in the background.
 */
export function createProducerConnection(options: ConnectionOptions): Redis {
  return watchHealth(
    new Redis({
      ...redisOptionsFor(options),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(options.connectTimeoutMs, 1_000),
    }),
    options,
  );
}

/**
 * A connection for BullMQ Workers and QueueEvents: `maxRetriesPerRequest: null` (BullMQ requires
 * it; its blocking commands wait for Redis to come back) and an offline queue, so a Redis restart
 * pauses work instead of failing jobs.
 */
export function createWorkerConnection(options: ConnectionOptions): Redis {
  return watchHealth(
    new Redis({
      ...redisOptionsFor(options),
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    }),
    options,
  );
}

/** Closes a connection: QUIT when connected, disconnect otherwise. Never throws. */
export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    if (redis.status === 'ready') await redis.quit();
    else redis.disconnect();
  } catch {
    redis.disconnect();
  }
}

/**
 * Resolves once the connection is ready, rejects after `timeoutMs`. A producer connection refuses
 * commands until then, so a process waits for this before it takes requests.
 */
export async function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis not ready within ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
