import type { RolloutWorkload } from '../api/container-version.js';
import type { Workload } from './ports.js';
import { workloadKey } from './rollout-facts.js';
import { rolloutStatus } from './rollout-status.js';

export type WorkloadsProgress =
  | { state: 'done' }
  | { state: 'progressing'; message: string }
  | { state: 'failed'; message: string };

/**
 * Whether the workloads a rollout touched have rolled out, as `kubectl rollout status` judges
 * each one ({@link rolloutStatus}). A workload read before the API server had cvm's patch (its
 * `metadata.generation` below the one the patch returned) is still progressing, so a stale read
 * can never pass for success; a deleted one counts as done. Failed as soon as one workload
 * reports failure (a Deployment's `ProgressDeadlineExceeded` that is not left from before). Pure.
 */
export function workloadsProgress(
  entries: readonly RolloutWorkload[],
  observed: ReadonlyMap<string, Workload | null>,
): WorkloadsProgress {
  let waiting: string | undefined;
  for (const entry of entries) {
    const current = observed.get(workloadKey(entry));
    if (!current) continue;
    if (entry.generation !== undefined && current.generation < entry.generation) {
      waiting ??= `Waiting for ${entry.kind.toLowerCase()} "${entry.name}" to show cvm's change...`;
      continue;
    }
    const status = rolloutStatus(
      current,
      entry.progressStamp === undefined ? {} : { staleStamp: entry.progressStamp },
    );
    if (status.state === 'failed') return { state: 'failed', message: status.message };
    if (status.state === 'progressing') waiting ??= status.message;
  }
  return waiting === undefined ? { state: 'done' } : { state: 'progressing', message: waiting };
}
