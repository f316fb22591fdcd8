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
import { ResourceInformer } from './resource-informer.js';
import { VERIFY_LABEL } from './verify-runner.js';
import { toWorkload } from './workload-client.js';

/** A Job with a Complete or Failed condition that is True. */
function jobFinished(object: KubernetesObject): boolean {
  const conditions = (object as { status?: { conditions?: { type: string; status: string }[] } })
    .status?.conditions;
  return (conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
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
 * holds a cache of the watched objects: memory grows with the number of those objects in the
 * cluster. The workloads (not the Jobs) are also readable by namespace ({@link workloads}), so
 * the REST API answers from memory.
 */
export class KubeWorkloadWatcher implements WorkloadSignals, Runnable {
  readonly name = 'workload-watcher';
  private readonly listeners = new Set<(signal: WorkloadSignal) => void>();
  private readonly informers: ResourceInformer<KubernetesObject>[];
  private readonly log: Logger;
  /** The watched workloads by namespace, then `Kind/name`. */
  private readonly cache = new Map<string, Map<string, Workload>>();

  constructor(options: KubeWorkloadWatcherOptions) {
    this.log = options.logger.child({ component: this.name });
    const apps = options.kubeConfig.makeApiClient(AppsV1Api);
    const batch = options.kubeConfig.makeApiClient(BatchV1Api);
    const watches: {
      kind: WorkloadSignal['kind'];
      path: string;
      list: () => Listed;
      labelSelector?: string;
    }[] = [
      {
        kind: 'Deployment',
        path: '/apis/apps/v1/deployments',
        list: () => apps.listDeploymentForAllNamespaces(),
      },
      {
        kind: 'StatefulSet',
        path: '/apis/apps/v1/statefulsets',
        list: () => apps.listStatefulSetForAllNamespaces(),
      },
      {
        kind: 'DaemonSet',
        path: '/apis/apps/v1/daemonsets',
        list: () => apps.listDaemonSetForAllNamespaces(),
      },
      {
        kind: 'CronJob',
        path: '/apis/batch/v1/cronjobs',
        list: () => batch.listCronJobForAllNamespaces(),
      },
      {
        kind: 'Job',
        path: '/apis/batch/v1/jobs',
        labelSelector: VERIFY_LABEL,
        list: () => batch.listJobForAllNamespaces({ labelSelector: VERIFY_LABEL }),
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
          ...(options.relistIntervalMs ? { relistIntervalMs: options.relistIntervalMs } : {}),
          onUpsert: (o) => this.emit(w.kind, o, false),
          onDelete: (o) => this.emit(w.kind, o, true),
        }),
    );
  }

  async start(): Promise<void> {
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
        : { workload: toWorkload(kind, object) }),
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
