import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import { CV_GROUP, CV_KIND, CV_PLURAL, CV_VERSION } from '../api/container-version.js';
import {
  AccessError,
  requestValue,
  type CliContainerVersion,
  type ContainerVersionAccess,
  type CvEvent,
  type RequestAction,
  type RequestMade,
  type WorkloadReplicas,
} from '../cli/cv-access.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { HistoryEntry, ObjectKey, StoredContainerVersion } from '../workers/ports.js';
import { REQUEST_ANNOTATION } from '../workers/rollout-decision.js';
import { KubeContainerVersionStore } from './container-version-store.js';
import { KubeEventReader } from './event-reader.js';
import { ConfigMapHistoryStore } from './history-store.js';
import { KubeApiError } from './kube-errors.js';
import { loadKubeConfig } from './kube-config.js';
import { pageParams, ResourceInformer } from './resource-informer.js';
import { KubeWorkloadClient } from './workload-client.js';

export interface KubeContainerVersionAccessOptions {
  /** `--kubeconfig`; else in-cluster, `$KUBECONFIG`, `~/.kube/config` (as kubectl). */
  kubeconfigPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Bound of every API request (not the watch), ms; default 10 000. */
  requestTimeoutMs?: number;
  logger?: Logger;
}

/** The replica counts of Deployments, StatefulSets (replicas) and DaemonSets (scheduled). */
interface WorkloadCounts {
  spec?: { replicas?: number };
  status?: {
    desiredNumberScheduled?: number;
    updatedReplicas?: number;
    updatedNumberScheduled?: number;
    readyReplicas?: number;
    numberReady?: number;
  };
}

type KubeCv = StoredContainerVersion & { metadata: { name: string; namespace: string } };

/**
 * {@link ContainerVersionAccess} over the Kubernetes API, for the CLI: reads and patches through
 * {@link KubeContainerVersionStore}, history through {@link ConfigMapHistoryStore}, Events through
 * {@link KubeEventReader}, and watches one CV with a {@link ResourceInformer} on its namespace
 * (list, then watch; restarts with backoff), so waiting costs no polling.
 *
 * Requests are merge patches of the `cvm.dev/request` annotation (`<action>:<time>`,
 * `rollback:<digest>:<time>`); suspend and resume merge-patch `spec.suspend`. An unreachable API
 * server, a refused credential (401, 403) and an unknown CV throw a `usage` {@link AccessError}.
 */
export class KubeContainerVersionAccess implements ContainerVersionAccess {
  readonly endpoint: string;
  readonly defaultNamespace: string;
  private readonly kubeConfig: KubeConfig;
  private readonly store: KubeContainerVersionStore;
  private readonly historyStore: ConfigMapHistoryStore;
  private readonly eventReader: KubeEventReader;
  private readonly workloads: KubeWorkloadClient;
  private readonly log: Logger;

  constructor(options: KubeContainerVersionAccessOptions = {}) {
    try {
      this.kubeConfig = loadKubeConfig(
        options.kubeconfigPath,
        options.env ?? process.env,
        options.requestTimeoutMs ?? 10_000,
      );
    } catch (error) {
      throw new AccessError(
        `cannot load the kubeconfig${options.kubeconfigPath ? ` ${options.kubeconfigPath}` : ''}: ${(error as Error).message}`,
        true,
      );
    }
    this.endpoint = this.kubeConfig.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
    this.defaultNamespace =
      this.kubeConfig.getContextObject(this.kubeConfig.getCurrentContext())?.namespace || 'default';
    this.log = options.logger ?? createLogger({ level: 'silent' });
    this.store = new KubeContainerVersionStore({ kubeConfig: this.kubeConfig });
    this.historyStore = new ConfigMapHistoryStore({
      kubeConfig: this.kubeConfig,
      logger: this.log,
    });
    this.eventReader = new KubeEventReader({ kubeConfig: this.kubeConfig });
    this.workloads = new KubeWorkloadClient({ kubeConfig: this.kubeConfig });
  }

  get(key: ObjectKey): Promise<CliContainerVersion | null> {
    return this.call(() => this.store.get(key) as Promise<CliContainerVersion | null>);
  }

  list(namespace?: string): Promise<CliContainerVersion[]> {
    return this.call(() => this.store.list(namespace) as Promise<CliContainerVersion[]>);
  }

  history(key: ObjectKey): Promise<HistoryEntry[]> {
    return this.call(async () => {
      await this.mustExist(key);
      return this.historyStore.list(key);
    });
  }

  events(key: ObjectKey): Promise<CvEvent[]> {
    return this.call(() => this.eventReader.list({ kind: CV_KIND, ...key }));
  }

  request(key: ObjectKey, action: RequestAction): Promise<RequestMade> {
    return this.annotate(key, requestValue(action));
  }

  rollback(key: ObjectKey, digest: string, force: boolean): Promise<RequestMade> {
    return this.annotate(key, requestValue(force ? 'force-rollback' : 'rollback', digest));
  }

  setSuspend(key: ObjectKey, suspend: boolean): Promise<RequestMade> {
    return this.call(async () => {
      if (!(await this.store.patch(key, { spec: { suspend } }))) throw this.unknown(key);
      return { message: `spec.suspend set to ${suspend}` };
    });
  }

  async watch(
    key: ObjectKey,
    onChange: (cv: CliContainerVersion | null) => void,
    _onError: (error: Error) => void,
  ): Promise<() => Promise<void>> {
    const api = this.kubeConfig.makeApiClient(CustomObjectsApi);
    const informer = new ResourceInformer<KubeCv>({
      kubeConfig: this.kubeConfig,
      logger: this.log,
      what: 'ContainerVersion',
      path: `/apis/${CV_GROUP}/${CV_VERSION}/namespaces/${key.namespace}/${CV_PLURAL}`,
      list: (page) =>
        api.listNamespacedCustomObject({
          group: CV_GROUP,
          version: CV_VERSION,
          plural: CV_PLURAL,
          namespace: key.namespace,
          ...pageParams(page),
        }) as Promise<KubernetesListObject<KubeCv>>,
      onUpsert: (o) => {
        if (o.metadata.name === key.name) onChange(o as CliContainerVersion);
      },
      onDelete: (o) => {
        if (o.metadata.name === key.name) onChange(null);
      },
      onListed: (keys) => {
        if (!keys.has(`${key.namespace}/${key.name}`)) onChange(null);
      },
      initialBackoffMs: 500,
      maxBackoffMs: 5_000,
    });
    // The informer restarts itself with backoff (the caller's timeout bounds the wait).
    await informer.start();
    return () => informer.stop();
  }

  replicas(cv: CliContainerVersion): Promise<WorkloadReplicas[]> {
    return this.call(async () => {
      const entries = cv.status?.rollout?.workloads ?? [];
      const read = await Promise.all(
        entries.map(async (w) => {
          const got = await this.workloads.get(w.kind, {
            namespace: w.namespace ?? cv.metadata.namespace,
            name: w.name,
          });
          if (!got) return [];
          const { spec, status } = got.object as WorkloadCounts;
          return [
            {
              kind: w.kind,
              name: w.name,
              desired: Number(spec?.replicas ?? status?.desiredNumberScheduled ?? 0),
              updated: Number(status?.updatedReplicas ?? status?.updatedNumberScheduled ?? 0),
              ready: Number(status?.readyReplicas ?? status?.numberReady ?? 0),
            },
          ];
        }),
      );
      return read.flat();
    });
  }

  private async annotate(key: ObjectKey, value: string): Promise<RequestMade> {
    return this.call(async () => {
      const patched = await this.store.patch(key, {
        metadata: { annotations: { [REQUEST_ANNOTATION]: value } },
      });
      if (!patched) throw this.unknown(key);
      return { request: value, message: `${REQUEST_ANNOTATION}=${value}` };
    });
  }

  private async mustExist(key: ObjectKey): Promise<void> {
    if (!(await this.store.get(key))) throw this.unknown(key);
  }

  private unknown(key: ObjectKey): AccessError {
    return new AccessError(`no ContainerVersion ${key.namespace}/${key.name}`, true);
  }

  /** Runs `work`, turning API failures into {@link AccessError}s that say what to check. */
  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AccessError) throw error;
      if (error instanceof KubeApiError) {
        if (error.status === undefined)
          throw new AccessError(
            `cannot reach the Kubernetes API at ${this.endpoint}: ${error.message}`,
            true,
          );
        if (error.status === 401 || error.status === 403)
          throw new AccessError(`the Kubernetes API refused: ${error.message}`, true);
        throw new AccessError(error.message, false);
      }
      throw error;
    }
  }
}
