import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import type { NodeInfo } from '../workers/ports.js';
import { classifyKubeError, toKubeApiError } from './kube-errors.js';

export interface KubeNodeInfoDeps {
  kubeConfig: KubeConfig;
  logger: Logger;
}

/**
 * {@link NodeInfo} from the Node objects: the distinct `status.nodeInfo.architecture` values
 * (`amd64`, `arm64`), sorted. One list request per call; no cache.
 *
 * When RBAC forbids listing nodes (403, e.g. cvm installed with namespace-only permissions) it
 * resolves to `[]` and logs once at info: the caller must read an empty list as "unknown" and
 * skip the platform check rather than fail it. Other failures throw `KubeApiError`.
 */
export class KubeNodeInfo implements NodeInfo {
  private readonly core: CoreV1Api;
  private readonly log: Logger;
  private forbiddenLogged = false;

  constructor(deps: KubeNodeInfoDeps) {
    this.core = deps.kubeConfig.makeApiClient(CoreV1Api);
    this.log = deps.logger.child({ component: 'node-info' });
  }

  async architectures(): Promise<string[]> {
    try {
      const nodes = await this.core.listNode();
      const architectures = nodes.items
        .map((n) => n.status?.nodeInfo?.architecture)
        .filter((a): a is string => a !== undefined && a !== '');
      return [...new Set(architectures)].sort();
    } catch (error) {
      const { status } = classifyKubeError(error);
      if (status === 403) {
        if (!this.forbiddenLogged) {
          this.forbiddenLogged = true;
          this.log.info('listing nodes is forbidden; the platform check is skipped');
        }
        return [];
      }
      throw toKubeApiError(error, 'list nodes');
    }
  }
}
