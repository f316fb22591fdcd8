import type { ContainerVersionStatus } from '../api/container-version.js';
import type { HistoryEntry, ObjectKey } from '../workers/ports.js';

/** A ContainerVersion as the CLI reads it (from the Kubernetes API or cvm's REST API). */
export interface CliContainerVersion {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    creationTimestamp?: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  /** Not validated: the fields the CLI reads, and the rest as stored. */
  spec: { tag?: string; imageRepo?: string; suspend?: boolean; [field: string]: unknown };
  status?: ContainerVersionStatus;
}

/** A Kubernetes Event about a ContainerVersion, as `cvm wait` prints it. */
export interface CvEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

/** Replicas of one workload a rollout touched, as read now. */
export interface WorkloadReplicas {
  kind: string;
  name: string;
  desired: number;
  updated: number;
  ready: number;
}

/** What a rollout action asked: the `cvm.dev/request` value written (or the suspend flag set). */
export interface RequestMade {
  /** The annotation value; `status.lastRequest.value` shows it once cvm handled it. */
  request?: string;
  message: string;
}

/**
 * Everything the CLI's ContainerVersion commands need, over the Kubernetes API (kubeconfig) or
 * cvm's REST API (`--server`). Failures throw {@link AccessError}: `usage` for an unreachable or
 * refusing endpoint and for an unknown CV (exit 2), otherwise a plain failure (exit 1).
 */
export interface ContainerVersionAccess {
  /** Where requests go, for messages: the API server or the REST URL. */
  readonly endpoint: string;
  /** The namespace of commands that name none: the kubeconfig context's, else `default`. */
  readonly defaultNamespace: string;
  /** The CV as stored now; `null` when there is none. */
  get(key: ObjectKey): Promise<CliContainerVersion | null>;
  /** Every CV of `namespace`, or of all namespaces when absent. */
  list(namespace?: string): Promise<CliContainerVersion[]>;
  /** The history entries, newest first; `[]` when there are none. */
  history(key: ObjectKey): Promise<HistoryEntry[]>;
  /** The CV's Events, newest first. */
  events(key: ObjectKey): Promise<CvEvent[]>;
  /** Asks for `request` (`promote`, `resume`, `abort`, `retry`, `sync`) with a fresh suffix. */
  request(key: ObjectKey, action: RequestAction): Promise<RequestMade>;
  /** Asks cvm to roll back to `digest` (`force`: even when it failed before). */
  rollback(key: ObjectKey, digest: string, force: boolean): Promise<RequestMade>;
  /** Sets `spec.suspend`. */
  setSuspend(key: ObjectKey, suspend: boolean): Promise<RequestMade>;
  /**
   * Calls `onChange` with the CV now and at every change (`null` once deleted) until the returned
   * function is called. `onError` hears failures the watch cannot recover from.
   */
  watch(
    key: ObjectKey,
    onChange: (cv: CliContainerVersion | null) => void,
    onError: (error: Error) => void,
  ): Promise<() => Promise<void>>;
  /** Replicas of the workloads a rollout touched; absent when the endpoint cannot tell (REST). */
  replicas?(cv: CliContainerVersion): Promise<WorkloadReplicas[]>;
}

export const REQUEST_ACTIONS = ['promote', 'resume', 'abort', 'retry', 'sync'] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

/** A failed access: `usage` ones (unreachable, not allowed, unknown CV) end the CLI with exit 2. */
export class AccessError extends Error {
  override readonly name = 'AccessError';
  constructor(
    message: string,
    readonly usage: boolean,
  ) {
    super(message);
  }
}

/**
 * A fresh suffix for a request, so the same request can be made again: the time in Unix ms (no
 * `:`, so it cannot be mistaken for part of a digest).
 */
export function requestSuffix(now: Date = new Date()): string {
  return String(now.getTime());
}

/** The `cvm.dev/request` value of an action: `promote:<time>`, `rollback:<digest>:<time>`. */
export function requestValue(
  action: RequestAction | 'rollback' | 'force-rollback',
  digest?: string,
  now: Date = new Date(),
): string {
  return [action, ...(digest ? [digest] : []), requestSuffix(now)].join(':');
}
