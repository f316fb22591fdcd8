import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { CV_GROUP, CV_PLURAL, CV_VERSION } from '../api/container-version.js';
import type { ContainerVersionStatus } from '../api/container-version.js';
import type { ContainerVersionStore, ObjectKey, StoredContainerVersion } from '../workers/ports.js';
import { isNotFound, toKubeApiError } from './kube-errors.js';

export interface KubeContainerVersionStoreDeps {
  kubeConfig: KubeConfig;
}

/**
 * {@link ContainerVersionStore} on the API server (CustomObjectsApi, `cvm.dev/v1`).
 *
 * - `get` reads the CV as stored now; `null` on 404 (also when the CRD is not installed).
 * - `patchStatus` sends an RFC 7386 merge patch to the `status` subresource: fields not given are
 *   kept, arrays are replaced whole, spec is never touched and `metadata.generation` does not move.
 *   A missing CV is a permanent {@link KubeApiError} with `notFound`.
 *
 * - `list` reads every CV of a namespace (or of all namespaces) as stored now.
 * - `patch` sends an RFC 7386 merge patch to the CV itself (metadata, spec; not status); `null`
 *   when the CV does not exist.
 *
 * Every other failure is thrown as a {@link KubeApiError} saying whether a retry can help.
 */
export class KubeContainerVersionStore implements ContainerVersionStore {
  private readonly api: CustomObjectsApi;

  constructor(deps: KubeContainerVersionStoreDeps) {
    this.api = deps.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async get(key: ObjectKey): Promise<StoredContainerVersion | null> {
    try {
      return (await this.api.getNamespacedCustomObject({
        ...resource(key),
        name: key.name,
      })) as StoredContainerVersion;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw toKubeApiError(error, `get ContainerVersion ${key.namespace}/${key.name}`);
    }
  }

  async list(namespace?: string): Promise<StoredContainerVersion[]> {
    const base = { group: CV_GROUP, version: CV_VERSION, plural: CV_PLURAL };
    try {
      const list = (await (namespace === undefined
        ? this.api.listClusterCustomObject(base)
        : this.api.listNamespacedCustomObject({ ...base, namespace }))) as {
        items?: StoredContainerVersion[];
      };
      return list.items ?? [];
    } catch (error) {
      throw toKubeApiError(error, `list ContainerVersions${namespace ? ` in ${namespace}` : ''}`);
    }
  }

  /**
   * An RFC 7386 merge patch of the CV itself (its annotations, `spec.suspend`); the status is not
   * touched. `null` when the CV does not exist.
   */
  async patch(key: ObjectKey, body: object): Promise<StoredContainerVersion | null> {
    try {
      return (await this.api.patchNamespacedCustomObject(
        { ...resource(key), name: key.name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as StoredContainerVersion;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw toKubeApiError(error, `patch ContainerVersion ${key.namespace}/${key.name}`);
    }
  }

  async patchStatus(
    key: ObjectKey,
    status: Partial<ContainerVersionStatus>,
  ): Promise<StoredContainerVersion> {
    try {
      return (await this.api.patchNamespacedCustomObjectStatus(
        { ...resource(key), name: key.name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as StoredContainerVersion;
    } catch (error) {
      throw toKubeApiError(error, `patch status of ContainerVersion ${key.namespace}/${key.name}`);
    }
  }
}

function resource(key: ObjectKey) {
  return { group: CV_GROUP, version: CV_VERSION, plural: CV_PLURAL, namespace: key.namespace };
}
