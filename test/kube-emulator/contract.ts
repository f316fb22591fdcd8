/**
 * The contract between the emulator's API server (store, HTTP, patches, watch) and its simulated
 * controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, Endpoints, kubelet). Both
 * sides code against these types; neither imports the other's internals.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

/** Any stored object. `spec` and `status` stay loosely typed: each controller narrows them. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;

  spec?: any;

  status?: any;
  [key: string]: unknown;
}

/**
 * A resource type, named `plural` for the core group and `plural.group` otherwise:
 * `pods`, `events`, `deployments.apps`, `replicasets.apps`, `jobs.batch`, `leases.coordination.k8s.io`,
 * `containerversions.cvm.dev`.
 */
export type ResourceName = string;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: ResourceName;
  /** The object as stored after the change (for DELETED: as it was, with a new resourceVersion). */
  object: KubeObject;
}

export interface ListOptions {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  /** A Kubernetes label selector string (`app=web,tier in (a,b),!canary`). */
  labelSelector?: string;
  /**
   * Only objects with an ownerReference to this uid (what a controller adopts; it still checks
   * `controller: true`). The store answers it from an index, without looking at other objects.
   */
  ownerUid?: string;
  /** Only objects this accepts (it sees the stored object; it must not change it). */
  filter?: (object: KubeObject) => boolean;
}

/** A page of a list: the objects after a `namespace/name` key, at most `limit` of them. */
export interface PageOptions extends ListOptions {
  /** Only objects whose `namespace/name` sorts after this key (a `continue` token's). */
  after?: string;
  /** At most this many; all when absent or 0. */
  limit?: number;
}

/**
 * The emulator's object store. Every method returns deep copies; every write bumps the one global,
 * monotonic resourceVersion and notifies subscribers synchronously after the commit.
 * Failures throw {@link StatusError} with the code and reason a kube-apiserver would use.
 */
export interface ObjectStore {
  get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined;
  list(resource: ResourceName, options?: ListOptions): KubeObject[];
  /** One page of {@link list}, in the same order, and how many matching objects follow it; only the page is copied. */
  listPage(
    resource: ResourceName,
    options: PageOptions,
  ): { items: KubeObject[]; remaining: number };
  /** Fills uid, resourceVersion, creationTimestamp, generation (1), name from generateName. 409 AlreadyExists. */
  create(resource: ResourceName, object: KubeObject): KubeObject;
  /**
   * Replaces the object except `status` when the resource has a status subresource. A given
   * `metadata.resourceVersion` that is not current fails with 409 Conflict. `generation` is bumped
   * when `spec` changed.
   */
  update(resource: ResourceName, object: KubeObject): KubeObject;
  /** Replaces only `status` (the /status subresource). Same resourceVersion rule as update. */
  updateStatus(resource: ResourceName, object: KubeObject): KubeObject;
  /** Deletes and cascades (background) to objects whose ownerReferences name its uid. 404 NotFound. */
  delete(resource: ResourceName, namespace: string | undefined, name: string): KubeObject;
  /**
   * Called synchronously after each committed change; returns the unsubscribe function. With
   * `shared`, the listener gets the stored event object itself (no copy) and must not change it.
   */
  subscribe(listener: (event: StoreEvent) => void, options?: { shared?: boolean }): () => void;
}

/**
 * Time inside the emulator. `now()` is emulated wall-clock milliseconds; with `timeScale: 10`,
 * ten emulated seconds pass per real second, so `progressDeadlineSeconds: 60` expires after 6 s.
 * Controllers schedule with `setTimeout` in emulated milliseconds.
 */
export interface EmulatorClock {
  readonly timeScale: number;
  now(): number;
  setTimeout(callback: () => void, emulatedMs: number): { cancel(): void };
}

export interface ControllerOptions {
  store: ObjectStore;
  clock: EmulatorClock;
  /** Node names the DaemonSet controller and the kubelet use. Default `['node-1']`. */
  nodes: string[];
  /** Emulated seconds from a Pod's creation until the kubelet marks it Running and Ready. */
  podReadySeconds: number;
  /** Images for which this returns true never become Ready (their Pods stay Running, not ready). */
  neverReady: (image: string) => boolean;
  /**
   * Images for which this returns true crash-loop in long-running Pods: Ready, then
   * `crashAfterSeconds` later the container exits (code 1) and restarts `podReadySeconds` after
   * that, again and again. Default: none.
   */
  crashing?: (image: string) => boolean;
  /** Emulated seconds a crash-looping container runs before it crashes; default 2. */
  crashAfterSeconds?: number;
}

export interface Controllers {
  stop(): void;
}

/** A Kubernetes `Status` failure. The HTTP layer serializes it as the `Status` body. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'StatusError';
  }
}
