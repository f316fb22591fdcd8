import { Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { closeConnection, createProducerConnection, waitForReady } from '../queue/connections.js';
import type { QueueName } from '../queue/names.js';
import { NotificationQueue } from '../queue/notification-queue.js';
import { PushEventQueue } from '../queue/push-event-queue.js';
import {
  QUEUE_NAMES,
  QueueAdmin,
  type FailedJob,
  type JobActionResult,
  type QueueStats,
} from '../queue/queue-admin.js';
import { RolloutQueue } from '../queue/rollout-queue.js';
import { CliExit, ExitCode } from './cli-exit.js';
import { loadConfigOrExit } from './load-config.js';
import type { CliIo } from './program.js';
import { table } from './table.js';

type Output = 'table' | 'json';

const outputOption = () =>
  new Option('-o, --output <format>', 'table for people, json for scripts')
    .choices(['table', 'json'])
    .default('table');
const queueOption = () =>
  new Option('-q, --queue <queue>', 'only this queue (default: both)').choices([...QUEUE_NAMES]);

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000)
    throw new InvalidArgumentError('--limit must be a whole number from 1 to 10000.');
  return n;
}

/**
 * Opens the queues of `config`, runs `work`, closes them. Redis that does not answer within the
 * connect timeout (at least 2 s) ends the command with exit 1 naming the URL's host.
 */
async function withAdmin<T>(config: Config, work: (admin: QueueAdmin) => Promise<T>): Promise<T> {
  const connection = createProducerConnection({
    url: config.redisUrl,
    connectTimeoutMs: config.redisConnectTimeoutMs,
    logger: createLogger({ level: 'silent' }),
    name: 'cvm-cli',
  });
  const pushEvents = new PushEventQueue({ connection, prefix: config.queuePrefix });
  const rollouts = new RolloutQueue({
    connection,
    prefix: config.queuePrefix,
    attempts: config.rolloutAttempts,
    backoffMs: config.rolloutBackoffMs,
  });
  const notifications = new NotificationQueue({ connection, prefix: config.queuePrefix });
  try {
    try {
      await waitForReady(connection, Math.max(config.redisConnectTimeoutMs, 2_000));
    } catch (error) {
      throw new CliExit(
        ExitCode.Failure,
        `redis at ${new URL(config.redisUrl).host} (CVM_REDIS_URL) did not answer: ${(error as Error).message}`,
      );
    }
    return await work(new QueueAdmin({ pushEvents, rollouts, notifications }));
  } finally {
    await Promise.all([pushEvents.close(), rollouts.close(), notifications.close()]);
    await closeConnection(connection);
  }
}

const statsTable = (stats: readonly QueueStats[]) =>
  table(
    ['QUEUE', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED', 'COMPLETED'],
    stats.map((s) => [
      s.queue,
      String(s.waiting),
      String(s.active),
      String(s.delayed),
      String(s.failed),
      String(s.completed),
    ]),
  );

const failedTable = (jobs: readonly FailedJob[]) =>
  table(
    ['QUEUE', 'ID', 'NAME', 'ATTEMPTS', 'FAILED AT', 'REASON'],
    jobs.map((j) => [
      j.queue,
      j.id,
      j.name,
      String(j.attempts),
      j.failedAt ?? '',
      j.failedReason.replace(/\s+/g, ' '),
    ]),
  );

interface ActionOptions {
  all?: boolean;
  queue?: QueueName;
  yes?: boolean;
}

/** `retry` and `drop`: ids or `--all`; exit 1 when some id was not a failed job. */
function actionCommand(
  io: CliIo,
  name: 'retry' | 'drop',
  description: string,
  run: {
    ids: (admin: QueueAdmin, ids: string[], queue?: QueueName) => Promise<JobActionResult>;
    all: (admin: QueueAdmin, queue?: QueueName) => Promise<Partial<Record<QueueName, number>>>;
  },
): Command {
  const verb = name === 'retry' ? 'retried' : 'dropped';
  const command = new Command(name)
    .description(description)
    .argument('[ids...]', 'ids of failed jobs (as `cvm queue failed` lists them)')
    .option('--all', 'every failed job (of --queue, or of every queue)')
    .addOption(queueOption());
  if (name === 'drop')
    command.option('-y, --yes', 'confirm --all: failed jobs are removed for good');
  return command.action(async (ids: string[], options: ActionOptions) => {
    if (options.all && ids.length > 0)
      throw new CliExit(ExitCode.Usage, `${name}: give job ids or --all, not both`);
    if (!options.all && ids.length === 0)
      throw new CliExit(ExitCode.Usage, `${name}: give the ids of failed jobs, or --all`);
    if (name === 'drop' && options.all && !options.yes) {
      throw new CliExit(
        ExitCode.Usage,
        'drop --all removes every failed job for good; add --yes to confirm',
      );
    }
    const config = loadConfigOrExit(io.env);
    await withAdmin(config, async (admin) => {
      if (options.all) {
        const counts = await run.all(admin, options.queue);
        for (const [queue, n] of Object.entries(counts))
          io.out(`${verb} ${n} failed job${n === 1 ? '' : 's'} of ${queue}\n`);
        return;
      }
      const result = await run.ids(admin, ids, options.queue);
      for (const job of result.done) io.out(`${verb} ${job.queue}/${job.id}\n`);
      const where = options.queue ?? QUEUE_NAMES.join(' or ');
      const problems = [
        ...result.notFound.map((id) => `no failed job ${JSON.stringify(id)} in ${where}`),
        ...result.ambiguous.map(
          (id) => `${JSON.stringify(id)} is a failed job in several queues; name one with --queue`,
        ),
      ];
      if (problems.length > 0) throw new CliExit(ExitCode.Failure, problems.join('; '));
    });
  });
}

/** `cvm queue stats|failed|retry|drop`: dead letters and replay for operators. */
export function queueCommand(io: CliIo): Command {
  const queue = new Command('queue').description(
    'look at the BullMQ queues in Redis; retry or drop failed jobs (dead letters)',
  );
  queue
    .command('stats')
    .description('job counts per queue: waiting, active, delayed, failed, completed')
    .addOption(outputOption())
    .action(async (options: { output: Output }) => {
      const stats = await withAdmin(loadConfigOrExit(io.env), (admin) => admin.stats());
      io.out(options.output === 'json' ? `${JSON.stringify(stats, null, 2)}\n` : statsTable(stats));
    });
  queue
    .command('failed')
    .description('failed jobs, newest first: id, name, reason, attempts, when')
    .addOption(queueOption())
    .option('-l, --limit <n>', 'at most this many jobs (1-10000)', parseLimit, 50)
    .addOption(outputOption())
    .action(async (options: { queue?: QueueName; limit: number; output: Output }) => {
      const jobs = await withAdmin(loadConfigOrExit(io.env), (admin) =>
        admin.failed({ limit: options.limit, ...(options.queue ? { queue: options.queue } : {}) }),
      );
      io.out(options.output === 'json' ? `${JSON.stringify(jobs, null, 2)}\n` : failedTable(jobs));
    });
  queue.addCommand(
    actionCommand(
      io,
      'retry',
      'run failed jobs again (a rollout is requested again for its CV, deduplicated with any it has)',
      { ids: (a, ids, q) => a.retry(ids, q), all: (a, q) => a.retryAll(q) },
    ),
  );
  queue.addCommand(
    actionCommand(io, 'drop', 'remove failed jobs for good', {
      ids: (a, ids, q) => a.drop(ids, q),
      all: (a, q) => a.dropAll(q),
    }),
  );
  return queue;
}
