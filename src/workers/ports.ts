/**
 * The narrow interfaces the workers need from Kubernetes (STYLE.md: owned by the consumer,
 * implemented in `src/kube`). Tests of pure logic may fake them; capability tests use `src/kube`
 * against the Kubernetes emulator.
 */
import type { ContainerVersionStatus, NotifySpec } from '../api/container-version.js';
import type { Reason } from '../api/conditions.js';
import type { Notification } from '../notify/notification.js';

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

/** A change of one ContainerVersion as an informer's listeners see it. */
export interface ContainerVersionChange {
  type: 'add' | 'update' | 'delete';
  /** The object after the change; for `delete`, the last one known. */
  object: StoredContainerVersion;
}

/** The CVs an informer holds, and their changes: what the controllers and the nudger read. */
export interface ContainerVersionSource {
  list(): StoredContainerVersion[];
  onChange(listener: (change: ContainerVersionChange) => void): () => void;
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

/** A Service as BlueGreen reads it: what its traffic goes to. */
export interface ServiceView {
  namespace: string;
  name: string;
  type: string;
  selector: Record<string, string>;
  /** For type ExternalName: the DNS name it points at. */
  externalName?: string;
  /** The first port, for the URL verify checks get (`http://<name>.<namespace>.svc:<port>`). */
  port?: number;
}

/** Where a Service sends traffic: its selector (merged) or, for type ExternalName, its target name. */
export type ServiceTarget = { selector: Record<string, string> } | { externalName: string };

export interface ServiceClient {
  /** The Service now; `null` when it does not exist. */
  get(key: ObjectKey): Promise<ServiceView | null>;
  /** Points the Service at `target` (a merge patch of its selector or externalName). */
  route(key: ObjectKey, target: ServiceTarget): Promise<ServiceView>;
}

/** A Pod as a canary judgement reads it. */
export interface PodView {
  name: string;
  ready: boolean;
  /** Restarts of each container by name. */
  restarts: Record<string, number>;
  /** Image of each container by name (the spec's). */
  images: Record<string, string>;
  deleting: boolean;
}

export interface PodReader {
  /** The Pods of `namespace` whose labels match `selector` (a workload's `spec.selector.matchLabels`). */
  list(namespace: string, selector: Record<string, string>): Promise<PodView[]>;
}

/** One measurement of a metric check (a PromQL query judged by its conditions). */
export interface MetricMeasurement {
  phase: 'Successful' | 'Failed' | 'Error';
  /** What the query returned, short. */
  value: string;
  message: string;
}

export interface MetricCheck {
  name: string;
  address: string;
  query: string;
  successCondition: string;
  failureCondition?: string;
  timeoutSeconds: number;
}

/** Canary analysis against a metrics provider (Prometheus). */
export interface MetricChecks {
  measure(check: MetricCheck): Promise<MetricMeasurement>;
  /** Why the provider at `address` cannot be used (does not answer), or undefined when it answers. */
  probe(address: string, timeoutSeconds: number): Promise<string | undefined>;
}

/** A workload or verify Job that changed (added, modified, deleted), as a watch saw it. */
export interface WorkloadSignal {
  kind: WorkloadKind | 'Job';
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

/**
 * Tells people what a rollout did (Slack, Teams, a generic webhook; `src/notify`). Called where
 * the rollout records it; resolves once the notification is queued, never waits for a sink.
 * Idempotent: the same notification (event, CV, rollout or digest) given twice is sent once.
 */
export interface Notifier {
  /** Queues `notification` for the sinks that want it, narrowed by the CV's `spec.notify`. */
  notify(notification: Notification, narrowing?: NotifySpec): Promise<void>;
}

/**
 * One rollout (or promotion) in the history ConfigMap `<cv>-history`, newest first. A promotion
 * (spec.promotion) is an entry with `result: 'Promoted'`, `trigger: 'promotion'`, no workloads,
 * `image` the promoted `repo:tag@digest`, and `promotion` saying which tag moved.
 */
export interface HistoryEntry {
  /** Stable id of the rollout (digest and start time): adding it twice keeps one entry. */
  id: string;
  version: string;
  digest: string;
  image: string;
  previousImage?: string;
  startedAt: string;
  finishedAt: string;
  result: 'Succeeded' | 'Failed' | 'RolledBack' | 'Superseded' | 'Promoted';
  message: string;
  trigger: string;
  workloads: string[];
  /** Set on promotion entries: the tag moved and where it pointed before. */
  promotion?: { tag: string; previousDigest?: string };
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
