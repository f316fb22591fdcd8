import {
  AppsV1Api,
  BatchV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { Workload, WorkloadSignal, WorkloadSignals } from '../workers/ports.js';
import { selectsWorkload } from '../workers/rollout-facts.js';
import { pageParams, ResourceInformer, type ListPage } from './resource-informer.js';
import { VERIFY_LABEL } from './verify-runner.js';
import { workloadOfWire } from './workload-client.js';

/** A Job with a Complete or Failed condition that is True. */
function jobFinished(object: KubernetesObject): boolean {
  const conditions = (object as { status?: { conditions?: { type: string; status: string }[] } })
    .status?.conditions;
  return (conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Wire = Record<string, unknown>;

/** The object under `key`, or an empty one. */
const obj = (o: unknown, key: string): Wire => {
  const v = typeof o === 'object' && o !== null ? (o as Wire)[key] : undefined;
  return typeof v === 'object' && v !== null ? (v as Wire) : {};
};

/** The containers as cvm reads them: name and image. */
const slimContainers = (list: unknown): Wire[] | undefined =>
  Array.isArray(list)
    ? list.map((c: Wire) =>
        c.image === undefined ? { name: c.name } : { name: c.name, image: c.image },
      )
    : undefined;

/** A pod template with only its labels and its containers' names and images. */
const slimTemplate = (template: Wire): Wire => ({
  metadata: { labels: obj(template, 'metadata').labels },
  spec: {
    containers: slimContainers(obj(template, 'spec').containers),
    initContainers: slimContainers(obj(template, 'spec').initContainers),
  },
});

/**
 * What the cache keeps of a watched object, in its wire form (timestamps as strings): metadata
 * without managedFields and the last-applied annotation; of the spec, the replicas, selector,
 * update strategy and the pod template's labels and containers (name, image); the whole status.
 * Everything cvm reads of a cached workload: rollout progress (`rollout-status.ts`), the REST
 * API's rows (`workload-rows.ts`), drift, BlueGreen and Canary (`replica-sets.ts`). A verify Job
 * keeps its metadata and status.
 */
export function slimWorkloadObject(kind: WorkloadSignal['kind'], model: KubernetesObject): Wire {
  const o = model as unknown as Wire;
  const meta = obj(o, 'metadata');
  const annotations = { ...obj(meta, 'annotations') };
  delete annotations[LAST_APPLIED];
  const spec = obj(o, 'spec');
  const slimSpec: Wire | undefined =
    kind === 'Job'
      ? undefined
      : kind === 'CronJob'
        ? {
            schedule: spec.schedule,
            suspend: spec.suspend,
            jobTemplate: {
              spec: {
                template: slimTemplate(obj(obj(obj(spec, 'jobTemplate'), 'spec'), 'template')),
              },
            },
          }
        : {
            replicas: spec.replicas,
            selector: spec.selector,
            updateStrategy: spec.updateStrategy,
            strategy: spec.strategy,
            minReadySeconds: spec.minReadySeconds,
            paused: spec.paused,
            template: slimTemplate(obj(spec, 'template')),
          };
  const slim = {
    apiVersion: o.apiVersion,
    kind: o.kind ?? kind,
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      generation: meta.generation,
      creationTimestamp: meta.creationTimestamp,
      labels: meta.labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(slimSpec ? { spec: slimSpec } : {}),
    status: o.status,
  };
  // Through JSON: Dates of client-node models become the strings the wire has, undefined goes.
  return JSON.parse(JSON.stringify(slim)) as Wire;
}

export interface KubeWorkloadWatcherOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Real ms between forced full re-lists; default 600 000. */
  relistIntervalMs?: number;
}

type Listed = Promise<KubernetesListObject<KubernetesObject>>;

/**
 * {@link WorkloadSignals} from one watch per kind over all namespaces: Deployments,
 * StatefulSets, DaemonSets, CronJobs, and the Jobs labelled `cvm.dev/verify-of` (cvm's verify
 * Jobs). Each watch is a {@link ResourceInformer} (restart with backoff, periodic re-list), and
 * holds a cache of the watched objects, each slimmed on arrival to what cvm reads
 * ({@link slimWorkloadObject}): memory grows with the number of those objects in the cluster. The workloads (not the Jobs) are also readable by namespace ({@link workloads}), so
 * the REST API answers from memory.
 */
export class KubeWorkloadWatcher implements WorkloadSignals, Runnable {
  readonly name = 'workload-watcher';
  private readonly listeners = new Set<(signal: WorkloadSignal) => void>();
  private readonly informers: ResourceInformer<KubernetesObject>[];
  private readonly log: Logger;
  /** The watched workloads by namespace, then `Kind/name`. */
  private readonly cache = new Map<string, Map<string, Workload>>();
  /** Every watch has had its first list. */
  private listed = false;

  constructor(options: KubeWorkloadWatcherOptions) {
    this.log = options.logger.child({ component: this.name });
    const apps = options.kubeConfig.makeApiClient(AppsV1Api);
    const batch = options.kubeConfig.makeApiClient(BatchV1Api);
    const watches: {
      kind: WorkloadSignal['kind'];
      path: string;
      list: (page: ListPage) => Listed;
      labelSelector?: string;
    }[] = [
      {
        kind: 'Deployment',
        path: '/apis/apps/v1/deployments',
        list: (page) => apps.listDeploymentForAllNamespaces(pageParams(page)),
      },
      {
        kind: 'StatefulSet',
        path: '/apis/apps/v1/statefulsets',
        list: (page) => apps.listStatefulSetForAllNamespaces(pageParams(page)),
      },
      {
        kind: 'DaemonSet',
        path: '/apis/apps/v1/daemonsets',
        list: (page) => apps.listDaemonSetForAllNamespaces(pageParams(page)),
      },
      {
        kind: 'CronJob',
        path: '/apis/batch/v1/cronjobs',
        list: (page) => batch.listCronJobForAllNamespaces(pageParams(page)),
      },
      {
        kind: 'Job',
        path: '/apis/batch/v1/jobs',
        labelSelector: VERIFY_LABEL,
        list: (page) =>
          batch.listJobForAllNamespaces({ labelSelector: VERIFY_LABEL, ...pageParams(page) }),
      },
    ];
    this.informers = watches.map(
      (w) =>
        new ResourceInformer<KubernetesObject>({
          kubeConfig: options.kubeConfig,
          logger: this.log,
          what: w.kind,
          path: w.path,
          list: w.list,
          ...(w.labelSelector ? { labelSelector: w.labelSelector } : {}),
          transform: (o) => slimWorkloadObject(w.kind, o),
          ...(options.relistIntervalMs ? { relistIntervalMs: options.relistIntervalMs } : {}),
          onUpsert: (o) => this.emit(w.kind, o, false),
          onDelete: (o) => this.emit(w.kind, o, true),
        }),
    );
  }

  async start(): Promise<void> {
    void this.synced().then(() => (this.listed = true));
    await Promise.all(this.informers.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Resolves once every watch has its first list. */
  async synced(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.synced()));
  }

  /** The workloads of `namespace` as last watched (Deployments, StatefulSets, DaemonSets, CronJobs). */
  workloads(namespace: string): Workload[] {
    return [...(this.cache.get(namespace)?.values() ?? [])];
  }

  /**
   * The workloads of `namespace` whose labels carry every pair of `selector`, as last watched;
   * `undefined` until every watch has had its first list (the cache cannot answer yet).
   */
  selected(namespace: string, selector: Record<string, string>): Workload[] | undefined {
    if (!this.listed) return undefined;
    return this.workloads(namespace).filter((w) => selectsWorkload(selector, w));
  }

  onChange(listener: (signal: WorkloadSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private remember(signal: WorkloadSignal): void {
    const key = `${signal.kind}/${signal.name}`;
    let namespace = this.cache.get(signal.namespace);
    if (signal.deleted || !signal.workload) {
      namespace?.delete(key);
      if (namespace?.size === 0) this.cache.delete(signal.namespace);
      return;
    }
    if (!namespace) this.cache.set(signal.namespace, (namespace = new Map<string, Workload>()));
    namespace.set(key, signal.workload);
  }

  private emit(kind: WorkloadSignal['kind'], object: KubernetesObject, deleted: boolean): void {
    const signal: WorkloadSignal = {
      kind,
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
      deleted,
      ...(kind === 'Job'
        ? { finished: jobFinished(object), verifyOf: object.metadata?.labels?.[VERIFY_LABEL] ?? '' }
        : { workload: workloadOfWire(kind, object) }),
    };
    if (signal.kind !== 'Job') this.remember(signal);
    for (const listener of this.listeners) {
      try {
        listener(signal);
      } catch (error) {
        this.log.error({ err: error, kind, name: signal.name }, 'workload listener failed');
      }
    }
  }
}
