import { createHash } from 'node:crypto';
import { BatchV1Api, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import type {
  StoredContainerVersion,
  VerifyCheckRun,
  VerifyJobState,
  VerifyRunner,
} from '../workers/ports.js';
import { classifyKubeError, isConflict, isNotFound, toKubeApiError } from './kube-errors.js';

export interface KubeVerifyRunnerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** First interval between status reads, in ms; grows ×1.5 up to `maxPollIntervalMs`; default 200. */
  initialPollIntervalMs?: number;
  /** Largest interval between status reads, in ms; default 2 000. */
  maxPollIntervalMs?: number;
  /** `ttlSecondsAfterFinished` of the Job, a backstop if the delete fails; default 600. */
  ttlSecondsAfterFinished?: number;
}

/** Label on verify Jobs naming their ContainerVersion. */
export const VERIFY_LABEL = 'cvm.dev/verify-of';
/** Label on verify Jobs naming the check. */
export const VERIFY_CHECK_LABEL = 'cvm.dev/verify-check';

type Check = Parameters<VerifyRunner['run']>[1];

/**
 * {@link VerifyRunner} with batch/v1 Jobs in the CV's namespace.
 *
 * The Job is `<cv>-verify-<check>-<hash>` (at most 63 characters), where the hash covers the CV
 * uid, the check and the env: a retried rollout of the same digest finds the Job it started
 * (409 on create) and waits for it instead of starting a second one. The Job has `backoffLimit: 0`,
 * `activeDeadlineSeconds: timeoutSeconds`, `ttlSecondsAfterFinished`, labels `cvm.dev/verify-of`
 * and `cvm.dev/verify-check`, a non-controller ownerReference to the CV, and `env` as container
 * environment variables.
 *
 * It reads the Job's status (interval growing from `initialPollIntervalMs` to
 * `maxPollIntervalMs`) until a `Complete` or `Failed` condition, or until `timeoutSeconds` passed
 * (measured here too, so a cluster that does not enforce `activeDeadlineSeconds` still ends).
 * Then it deletes the Job with `propagationPolicy: Background` (its Pods go too); a failed delete
 * is logged, not thrown. Results: `{ succeeded: true, message: 'Complete' }`;
 * `{ succeeded: false, message: '<reason>: <message>' }` from the Failed condition; a timeout or a
 * Job deleted by someone else is a failed run with a message saying so.
 *
 * Two runs of the same verification at the same time (not expected: one rollout per CV runs at a
 * time) share the Job; the first to finish deletes it and the other may then report it deleted,
 * a failure on the safe side.
 *
 * Throws `KubeApiError` only when the Job cannot be created; transient read errors while waiting
 * are retried until the timeout.
 */
export class KubeVerifyRunner implements VerifyRunner {
  private readonly batch: BatchV1Api;
  private readonly log: Logger;
  private readonly initialPollMs: number;
  private readonly maxPollMs: number;
  private readonly ttlSeconds: number;

  constructor(options: KubeVerifyRunnerOptions) {
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api);
    this.log = options.logger.child({ component: 'verify-runner' });
    this.initialPollMs = options.initialPollIntervalMs ?? 200;
    this.maxPollMs = options.maxPollIntervalMs ?? 2_000;
    this.ttlSeconds = options.ttlSecondsAfterFinished ?? 600;
  }

  async start(
    cv: StoredContainerVersion,
    check: Check,
    env: Record<string, string>,
  ): Promise<string> {
    const { namespace } = cv.metadata;
    const job = this.job(cv, check, env);
    const name = job.metadata?.name ?? '';
    const log = this.log.child({
      cv: `${namespace}/${cv.metadata.name}`,
      check: check.name,
      job: name,
    });
    try {
      await this.batch.createNamespacedJob({ namespace, body: job });
      log.info('verify job created');
    } catch (error) {
      if (!isConflict(error)) throw toKubeApiError(error, `create verify Job ${namespace}/${name}`);
      log.info('verify job exists; adopting it');
    }
    return name;
  }

  async observe(namespace: string, job: string): Promise<VerifyJobState> {
    try {
      const read = await this.batch.readNamespacedJob({ namespace, name: job });
      const finished = finishedCondition(read);
      if (finished?.type === 'Complete') return { state: 'succeeded' };
      if (finished?.type === 'Failed') {
        const why = [finished.reason, finished.message].filter(Boolean).join(': ');
        return { state: 'failed', message: why || 'Failed' };
      }
      return { state: 'running' };
    } catch (error) {
      if (isNotFound(error)) return { state: 'missing' };
      throw toKubeApiError(error, `read verify Job ${namespace}/${job}`);
    }
  }

  remove(namespace: string, job: string): Promise<void> {
    return this.delete(namespace, job, this.log.child({ job }));
  }

  async run(
    cv: StoredContainerVersion,
    check: Check,
    env: Record<string, string>,
  ): Promise<VerifyCheckRun> {
    const { namespace } = cv.metadata;
    const name = await this.start(cv, check, env);
    const log = this.log.child({
      cv: `${namespace}/${cv.metadata.name}`,
      check: check.name,
      job: name,
    });
    try {
      return await this.waitForJob(namespace, name, check, log);
    } finally {
      await this.delete(namespace, name, log);
    }
  }

  private async waitForJob(
    namespace: string,
    name: string,
    check: Check,
    log: Logger,
  ): Promise<VerifyCheckRun> {
    const deadline = Date.now() + check.timeoutSeconds * 1000;
    let intervalMs = this.initialPollMs;
    for (;;) {
      try {
        const job = await this.observe(namespace, name);
        if (job.state === 'succeeded') return { succeeded: true, message: 'Complete' };
        if (job.state === 'failed') return { succeeded: false, message: job.message };
        if (job.state === 'missing')
          return { succeeded: false, message: `verify Job ${name} was deleted before it finished` };
      } catch (error) {
        const { transient, status, reason } = classifyKubeError(error);
        if (!transient) throw error;
        log.warn({ status, reason }, 'reading verify job failed; retrying');
      }
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) {
        return {
          succeeded: false,
          message: `verify check ${check.name} did not finish within ${check.timeoutSeconds}s`,
        };
      }
      await sleep(Math.min(intervalMs, leftMs));
      intervalMs = Math.min(this.maxPollMs, intervalMs * 1.5);
    }
  }

  private async delete(namespace: string, name: string, log: Logger): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
    } catch (error) {
      if (isNotFound(error)) return;
      const { status, reason } = classifyKubeError(error);
      log.warn({ status, reason }, 'verify job not deleted; its TTL will remove it');
    }
  }

  private job(cv: StoredContainerVersion, check: Check, env: Record<string, string>): V1Job {
    const labels = { [VERIFY_LABEL]: cv.metadata.name, [VERIFY_CHECK_LABEL]: check.name };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: verifyJobName(cv, check, env),
        namespace: cv.metadata.namespace,
        labels,
        ownerReferences: [
          {
            apiVersion: cv.apiVersion,
            kind: cv.kind,
            name: cv.metadata.name,
            uid: cv.metadata.uid,
            controller: false,
            blockOwnerDeletion: false,
          },
        ],
      },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: check.timeoutSeconds,
        ttlSecondsAfterFinished: this.ttlSeconds,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'verify',
                image: check.image,
                command: check.command,
                ...(check.args ? { args: check.args } : {}),
                env: Object.entries(env)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([n, value]) => ({ name: n, value })),
              },
            ],
          },
        },
      },
    };
  }
}

/**
 * `<cv>-verify-<check>-<8 hex>`, cut to 63 characters (Job names become Pod label values). The
 * hash covers the CV uid, the check and the env, so the same verification gets the same name.
 */
export function verifyJobName(
  cv: StoredContainerVersion,
  check: Check,
  env: Record<string, string>,
): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([cv.metadata.uid, check, Object.entries(env).sort()]))
    .digest('hex')
    .slice(0, 8);
  const prefix = `${cv.metadata.name}-verify-${check.name}`.slice(0, 63 - 9).replace(/-+$/, '');
  return `${prefix}-${hash}`;
}

function finishedCondition(job: V1Job) {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
