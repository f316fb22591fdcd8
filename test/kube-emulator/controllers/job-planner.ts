import type { KubeObject } from '../contract.js';
import type { PodTemplate } from './deployment-types.js';
import { kubeTime } from './kube-time.js';
import { failAnnotation } from './pod-lifecycle.js';
import { controllerRef } from './owner-refs.js';
import { podFromTemplate } from './pod-template.js';
import { isPodActive, isPodReady, podPhase } from './pod-status.js';
import { stableStringify } from './template-hash.js';

export interface Job extends KubeObject {
  spec: {
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    template?: PodTemplate;
  };
  status?: {
    conditions?: { type: string; status: string }[];
    startTime?: string;
    completionTime?: string;
  } & Record<string, unknown>;
}

export interface JobPlan {
  createPods: KubeObject[];
  deletePods: string[];
  /** An Event to record when the Job finishes in this pass. */
  finished?: { type: 'Normal' | 'Warning'; reason: string; message: string };
  /** The status to store, or undefined when unchanged. */
  status: Record<string, unknown> | undefined;
}

function finishedCondition(job: Job): string | undefined {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  )?.type;
}

/**
 * One pass of the Job controller: keep `min(parallelism, completions - succeeded)` Pods running;
 * Complete once `completions` Pods succeeded; Failed (BackoffLimitExceeded) once more than
 * `backoffLimit` Pods failed, deleting the active ones. Retries start at once (no exponential
 * back-off). A Job annotated `cvm.dev/emulator-fail: "true"` passes the annotation to its Pods,
 * which the kubelet then fails. Pure.
 */
export function planJobSync(job: Job, ownedPods: KubeObject[], nowMs: number): JobPlan {
  const completions = job.spec.completions ?? 1;
  const parallelism = job.spec.parallelism ?? 1;
  const backoffLimit = job.spec.backoffLimit ?? 6;
  const active = ownedPods.filter(isPodActive);
  const succeeded = ownedPods.filter((p) => podPhase(p) === 'Succeeded').length;
  const failed = ownedPods.filter((p) => podPhase(p) === 'Failed').length;
  const now = kubeTime(nowMs);
  const plan: JobPlan = { createPods: [], deletePods: [], status: undefined };
  const status: Record<string, unknown> = { ...(job.status ?? {}) };
  status.startTime ??= now;
  const already = finishedCondition(job);
  const condition = (type: string, reason?: string, message?: string) => ({
    lastProbeTime: now,
    lastTransitionTime: now,
    ...(message ? { message } : {}),
    ...(reason ? { reason } : {}),
    status: 'True',
    type,
  });
  if (already === 'Failed' || (!already && failed > backoffLimit)) {
    plan.deletePods = active.map((p) => p.metadata.name ?? '');
    if (!already) {
      const message = 'Job has reached the specified backoff limit';
      status.conditions = [condition('Failed', 'BackoffLimitExceeded', message)];
      plan.finished = { type: 'Warning', reason: 'BackoffLimitExceeded', message };
    }
  } else if (already === 'Complete' || succeeded >= completions) {
    if (!already) {
      status.conditions = [condition('Complete')];
      status.completionTime = now;
      plan.finished = { type: 'Normal', reason: 'Completed', message: 'Job completed' };
    }
  } else {
    const wanted = Math.min(parallelism, completions - succeeded);
    for (let i = active.length; i < wanted; i++) plan.createPods.push(newPod(job));
  }
  const running = active.length - plan.deletePods.length + plan.createPods.length;
  const counts: [string, number][] = [
    ['active', running],
    ['succeeded', succeeded],
    ['failed', failed],
  ];
  for (const [key, value] of counts) {
    if (value) status[key] = value;
    else delete status[key];
  }
  status.ready = active.filter(isPodReady).length;
  if (stableStringify(status) !== stableStringify(job.status ?? {})) plan.status = status;
  return plan;
}

function newPod(job: Job): KubeObject {
  const pod = podFromTemplate(job, controllerRef(job), {
    labels: { 'controller-uid': job.metadata.uid ?? '', 'job-name': job.metadata.name ?? '' },
  });
  if (job.metadata.annotations?.[failAnnotation] === 'true') {
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [failAnnotation]: 'true' };
  }
  const spec = pod.spec as { restartPolicy?: string };
  spec.restartPolicy ??= 'Never';
  return pod;
}
