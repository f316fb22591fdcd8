import type { QueueOptions } from 'bullmq';
import type { Redis } from './connections.js';

/**
 * The options of a BullMQ `Queue` on a producer connection (`createProducerConnection`).
 *
 * `skipVersionCheck`: a BullMQ Queue sends `INFO` once, when it is created, and caches the result
 * of that first round trip as its client for good: if `INFO` fails, every later command of the
 * Queue (`add`, `addBulk`, `getJobs`) rejects with that same error, though the connection is ready
 * again. A producer connection fails such a command whenever Redis drops while it is in flight
 * (`maxRetriesPerRequest: 1`) or it takes longer than `commandTimeout`, so one Redis restart at the
 * wrong moment (or a slow first reply on a loaded machine) left the receiver unable to enqueue
 * until it was restarted. Without the check the Queue sends nothing at creation; it only waits for
 * the connection's first `ready`. The cost: BullMQ assumes Redis 5 for its few version-dependent
 * choices (a Lua scan instead of `LPOS` in `getJobState`) and does not warn about an eviction
 * policy; Workers, on their own connection, still check both.
 */
export function producerQueueOptions(connection: Redis, prefix: string): QueueOptions {
  return { connection, prefix, skipVersionCheck: true };
}
