import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { OutageLog } from '../observability/outage-log.js';

export type { Redis };

export interface ConnectionOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** Time a connection attempt may take before it counts as failed. */
  connectTimeoutMs: number;
  logger: Logger;
  /** Shown in Redis `CLIENT LIST` and in logs. */
  name: string;
}

/** Reconnect after 100 ms, doubling up to 5 s: Redis restarts are survived, not fatal. */
export const reconnectDelayMs = (attempt: number): number =>
  Math.min(100 * 2 ** Math.min(attempt - 1, 6), 5_000);

function baseOptions(options: ConnectionOptions): RedisOptions {
  return {
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: reconnectDelayMs,
    // A client that talks to a stale primary after a failover must reconnect, not fail forever.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
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
    new Redis(options.url, {
      ...baseOptions(options),
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
    new Redis(options.url, {
      ...baseOptions(options),
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
