import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type {
  ObjectKey,
  PodReader,
  PodView,
  ServiceClient,
  ServiceTarget,
  ServiceView,
} from '../workers/ports.js';
import { isNotFound, toKubeApiError } from './kube-errors.js';
import { formatLabelSelector } from './label-selector.js';

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * {@link ServiceClient} on core/v1 Services: `get` resolves to `null` on 404; `route` sends one
 * JSON merge patch, of `spec.selector` (only the keys given change) or of `spec.externalName`.
 */
export class KubeServiceClient implements ServiceClient {
  readonly #core: CoreV1Api;

  constructor(deps: { kubeConfig: KubeConfig }) {
    this.#core = deps.kubeConfig.makeApiClient(CoreV1Api);
  }

  async get(key: ObjectKey): Promise<ServiceView | null> {
    try {
      return toServiceView(await this.#core.readNamespacedService(key));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw toKubeApiError(error, `get Service ${key.namespace}/${key.name}`);
    }
  }

  async route(key: ObjectKey, target: ServiceTarget): Promise<ServiceView> {
    const spec = 'selector' in target ? { selector: target.selector } : target;
    try {
      return toServiceView(
        await this.#core.patchNamespacedService({ ...key, body: { spec } }, mergePatch()),
      );
    } catch (error) {
      throw toKubeApiError(error, `patch Service ${key.namespace}/${key.name}`);
    }
  }
}

function toServiceView(service: V1Service): ServiceView {
  const spec = service.spec ?? {};
  const port = spec.ports?.[0]?.port;
  return {
    namespace: service.metadata?.namespace ?? '',
    name: service.metadata?.name ?? '',
    type: spec.type ?? 'ClusterIP',
    selector: spec.selector ?? {},
    ...(spec.externalName ? { externalName: spec.externalName } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}

/** {@link PodReader} on core/v1 Pods: one list request with the selector as `labelSelector`. */
export class KubePodReader implements PodReader {
  readonly #core: CoreV1Api;

  constructor(deps: { kubeConfig: KubeConfig }) {
    this.#core = deps.kubeConfig.makeApiClient(CoreV1Api);
  }

  async list(namespace: string, selector: Record<string, string>): Promise<PodView[]> {
    const labelSelector = formatLabelSelector(selector);
    try {
      const list = await this.#core.listNamespacedPod({ namespace, labelSelector });
      return list.items.map(toPodView);
    } catch (error) {
      throw toKubeApiError(error, `list Pods in ${namespace} (${labelSelector})`);
    }
  }
}

function toPodView(pod: V1Pod): PodView {
  const restarts: Record<string, number> = {};
  for (const c of pod.status?.containerStatuses ?? []) restarts[c.name] = c.restartCount;
  const images: Record<string, string> = {};
  for (const c of pod.spec?.containers ?? []) if (c.image) images[c.name] = c.image;
  return {
    name: pod.metadata?.name ?? '',
    ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts,
    images,
    deleting: pod.metadata?.deletionTimestamp !== undefined,
  };
}
