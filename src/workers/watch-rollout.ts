import type { ObjectKey, Workload, WorkloadClient } from './ports.js';
import { progressingStamp, rolloutStatus } from './rollout-status.js';

export type WatchOutcome =
  | { outcome: 'done' }
  | { outcome: 'failed'; workload: Workload; reason: 'ProgressDeadlineExceeded'; message: string };

export interface WatchOptions {
  workloads: WorkloadClient;
  /** Emulated or real epoch ms after which the rollout counts as failed. */
  deadlineMs: number;
  pollIntervalMs: number;
  now: () => number;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits like `kubectl rollout status` until every workload rolled out, one of them reports failure
 * (`ProgressDeadlineExceeded`), or the CV's own deadline passes (for kinds without a deadline of
 * their own: StatefulSet, DaemonSet). A workload that disappeared counts as done.
 */
export async function watchRollout(
  targets: readonly Workload[],
  options: WatchOptions,
): Promise<WatchOutcome> {
  let pending = [...targets];
  // `targets` are the objects right after the patch: their Progressing condition is not this rollout's.
  const stale = new Map(
    targets.map((t) => [`${t.kind}/${t.namespace}/${t.name}`, progressingStamp(t)]),
  );
  for (;;) {
    const next: Workload[] = [];
    for (const target of pending) {
      const key: ObjectKey = { namespace: target.namespace, name: target.name };
      const current = await options.workloads.get(target.kind, key);
      if (!current) continue;
      const staleStamp = stale.get(`${current.kind}/${current.namespace}/${current.name}`);
      const status = rolloutStatus(current, staleStamp === undefined ? {} : { staleStamp });
      if (status.state === 'failed')
        return {
          outcome: 'failed',
          workload: current,
          reason: status.reason,
          message: status.message,
        };
      if (status.state === 'progressing') next.push(current);
    }
    pending = next;
    if (pending.length === 0) return { outcome: 'done' };
    if (options.now() >= options.deadlineMs) {
      const stuck = pending[0]!;
      return {
        outcome: 'failed',
        workload: stuck,
        reason: 'ProgressDeadlineExceeded',
        message: `${stuck.kind.toLowerCase()} "${stuck.name}" did not finish rolling out within spec.rollback.progressDeadlineSeconds: ${rolloutStatus(stuck).message}`,
      };
    }
    if (options.signal?.aborted)
      throw new Error('rollout watch aborted', { cause: options.signal.reason });
    await sleep(options.pollIntervalMs);
  }
}
