/**
 * The narrow interfaces the workers need from Kubernetes (STYLE.md: owned by the consumer,
 * implemented in `src/kube`). Tests of pure logic may fake them; capability tests use `src/kube`
 * against the Kubernetes emulator.
 */
import type { ContainerVersionStatus } from '../api/container-version.js';
import type { Reason } from '../api/conditions.js';

/** A ContainerVersion as stored: the spec is not validated yet (a worker validates it). */
export interface StoredContainerVersion {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    resourceVersion: string;
    annotations?: Record<string, string>;
  };
  spec: unknown;
  status?: ContainerVersionStatus;
}

export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ContainerVersionStore {
  /** The CV as the API server has it now; `null` when it does not exist. */
  get(key: ObjectKey): Promise<StoredContainerVersion | null>;
  /**
   * Merge-patches `status` through the status subresource. Fields not given are kept; arrays
   * (conditions, failedDigests) are replaced whole. Resolves to the stored object.
   */
  patchStatus(
    key: ObjectKey,
    status: Partial<ContainerVersionStatus>,
  ): Promise<StoredContainerVersion>;
}

/** A CV that follows a repository and tag, as the informer-backed index knows it. */
export interface FollowingContainerVersion extends ObjectKey {
  uid: string;
}

/** The in-memory index of CVs kept by an informer: no API request per push event. */
export interface ContainerVersionIndex {
  /** CVs whose `spec.imageRepo` (normalized) and `spec.tag` match. */
  following(registry: string, repository: string, tag: string): FollowingContainerVersion[];
  /** Resolves once the first list is in the index. */
  synced(): Promise<void>;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface Container {
  name: string;
  image?: string;
}

/** A workload with the parts cvm reads; `object` is the whole object as the API server sent it. */
export interface Workload {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  annotations: Record<string, string>;
  /** The pod template's containers and initContainers (a CronJob's job template's pod template). */
  containers: Container[];
  initContainers: Container[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  object: any;
}

export interface WorkloadClient {
  /** Deployments, StatefulSets, DaemonSets and CronJobs of `namespace` whose labels match `selector`. */
  list(namespace: string, selector: Record<string, string>): Promise<Workload[]>;
  get(kind: WorkloadKind, key: ObjectKey): Promise<Workload | null>;
  /** A strategic merge patch; resolves to the patched workload. */
  patch(kind: WorkloadKind, key: ObjectKey, patch: object): Promise<Workload>;
}

/** A workload or verify Job that changed (added, modified, deleted), as a watch saw it. */
export interface WorkloadSignal {
  kind: Exclude<WorkloadKind, 'CronJob'> | 'Job';
  namespace: string;
  name: string;
  /** For a verify Job: the name of the ContainerVersion it verifies. */
  verifyOf?: string;
  /** The object is gone. */
  deleted: boolean;
  /** The workload as the watch saw it (Deployments, StatefulSets, DaemonSets). */
  workload?: Workload;
  /** A Job reached Complete or Failed. */
  finished?: boolean;
}

/** Watch events on the workloads rollouts wait for (one shared watch per kind, not one per rollout). */
export interface WorkloadSignals {
  /** Calls `listener` on every change; returns a function that unsubscribes. */
  onChange(listener: (signal: WorkloadSignal) => void): () => void;
}

/** Architectures (`amd64`, `arm64`) of the cluster's nodes, for the platform check. */
export interface NodeInfo {
  architectures(): Promise<string[]>;
}

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface EventRecorder {
  /** Records a core/v1 Event on `target` (repeats aggregate into `count`, as kubectl shows). */
  record(
    target: ObjectReference,
    type: 'Normal' | 'Warning',
    reason: Reason,
    message: string,
  ): Promise<void>;
}

/** One rollout in the history ConfigMap `<cv>-history`, newest first. */
export interface HistoryEntry {
  /** Stable id of the rollout (digest and start time): adding it twice keeps one entry. */
  id: string;
  version: string;
  digest: string;
  image: string;
  previousImage?: string;
  startedAt: string;
  finishedAt: string;
  result: 'Succeeded' | 'Failed' | 'RolledBack' | 'Superseded';
  message: string;
  trigger: string;
  workloads: string[];
}

export interface HistoryStore {
  /** Adds an entry unless one with its id exists; keeps at most `limit`, newest first; owned by the CV. */
  add(cv: StoredContainerVersion, entry: HistoryEntry, limit: number): Promise<void>;
  list(cv: ObjectKey): Promise<HistoryEntry[]>;
}

export interface VerifyCheckRun {
  /** The Job ran to completion. */
  succeeded: boolean;
  message: string;
}

/** A verify Job as read now. */
export type VerifyJobState =
  | { state: 'running' }
  | { state: 'succeeded' }
  | { state: 'failed'; message: string }
  /** Deleted (or never created). */
  | { state: 'missing' };

export interface VerifyCheck {
  name: string;
  image: string;
  command: string[];
  args?: string[];
  timeoutSeconds: number;
}

/** Runs `verify` checks as Jobs in the CV's namespace and cleans them up. */
export interface VerifyRunner {
  /** Creates the check's Job (an existing one with its deterministic name is adopted); resolves to its name. */
  start(
    cv: StoredContainerVersion,
    check: VerifyCheck,
    env: Record<string, string>,
  ): Promise<string>;
  /** The Job's state now. */
  observe(namespace: string, job: string): Promise<VerifyJobState>;
  /** Deletes the Job and its Pods; a Job already gone is fine. */
  remove(namespace: string, job: string): Promise<void>;
  /** start, wait for the end (blocking; for tools and tests, not for rollouts), remove. */
  run(
    cv: StoredContainerVersion,
    check: VerifyCheck,
    env: Record<string, string>,
  ): Promise<VerifyCheckRun>;
}
