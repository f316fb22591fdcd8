import type { Logger } from '../observability/logger.js';
import { ContainerVersionInformer } from './container-version-informer.js';
import { KubeContainerVersionStore } from './container-version-store.js';
import { KubeEventReader } from './event-reader.js';
import { KubeEventRecorder } from './event-recorder.js';
import { ConfigMapHistoryStore } from './history-store.js';
import { loadKubeConfig } from './kube-config.js';
import { KubeNodeInfo } from './node-info.js';
import { KubePodReader, KubeServiceClient } from './traffic-clients.js';
import { KubeVerifyRunner } from './verify-runner.js';
import { KubeWorkloadClient, WatchedWorkloadClient } from './workload-client.js';
import { KubeWorkloadWatcher } from './workload-watcher.js';

/** Bound of an informer's list request (every object of a kind, all namespaces), ms. */
const INFORMER_LIST_TIMEOUT_MS = 120_000;

export interface KubeAdapterOptions {
  /** CVM_KUBECONFIG; in-cluster or the default kubeconfig when absent. */
  kubeconfigPath?: string;
  /** Bound of every API request (not watches), ms (CVM_KUBE_REQUEST_TIMEOUT_MS); default 10 000. */
  requestTimeoutMs?: number;
  logger: Logger;
  now?: () => Date;
}

/**
 * Every Kubernetes adapter of cvm on one kubeconfig, so composition roots outside `src/kube` never
 * see client-node types. The informer (`index`) and the workload watcher (`signals`) are
 * Runnables: start them before use, stop them last.
 */
export function createKubeAdapters(options: KubeAdapterOptions) {
  const kubeConfig = loadKubeConfig(
    options.kubeconfigPath,
    process.env,
    options.requestTimeoutMs ?? 10_000,
  );
  const { logger } = options;
  // The informers' lists return every object of a kind in the cluster (tens of thousands in a
  // big one): they get a longer bound than single requests, or a slow list never completes.
  const listConfig = loadKubeConfig(
    options.kubeconfigPath,
    process.env,
    Math.max(INFORMER_LIST_TIMEOUT_MS, options.requestTimeoutMs ?? 10_000),
  );
  const signals = new KubeWorkloadWatcher({ kubeConfig: listConfig, logger });
  return {
    store: new KubeContainerVersionStore({ kubeConfig }),
    index: new ContainerVersionInformer({ kubeConfig: listConfig, logger }),
    // Which workloads a selector matches comes from the watch; each one is read fresh.
    workloads: new WatchedWorkloadClient(new KubeWorkloadClient({ kubeConfig }), signals),
    services: new KubeServiceClient({ kubeConfig }),
    pods: new KubePodReader({ kubeConfig }),
    nodes: new KubeNodeInfo({ kubeConfig, logger }),
    events: new KubeEventRecorder({
      kubeConfig,
      logger,
      ...(options.now ? { now: options.now } : {}),
    }),
    eventReader: new KubeEventReader({ kubeConfig }),
    history: new ConfigMapHistoryStore({ kubeConfig, logger }),
    verify: new KubeVerifyRunner({ kubeConfig, logger }),
    signals,
  };
}

export type KubeAdapters = ReturnType<typeof createKubeAdapters>;
