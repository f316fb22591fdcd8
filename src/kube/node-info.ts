import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import type { NodeInfo } from '../workers/ports.js';
import { classifyKubeError, toKubeApiError } from './kube-errors.js';

export interface KubeNodeInfoDeps {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** How long an answer is reused, in ms (nodes' architectures rarely change); default 30 000; 0: always list. */
  cacheMs?: number;
}

/**
 * {@link NodeInfo} from the Node objects: the distinct `status.nodeInfo.architecture` values
 * (`amd64`, `arm64`), sorted. One list request per `cacheMs` (default 30 s), however many
 * rollouts ask meanwhile.
 *
 * When RBAC forbids listing nodes (403, e.g. cvm installed with namespace-only permissions) it
 * resolves to `[]` and logs once at info: the caller must read an empty list as "unknown" and
 * skip the platform check rather than fail it. Other failures throw `KubeApiError`.
 */
export class KubeNodeInfo implements NodeInfo {
  private readonly core: CoreV1Api;
  private readonly log: Logger;
  private forbiddenLogged = false;
  private readonly cacheMs: number;
  private cached: { at: number; architectures: Promise<string[]> } | undefined;

  constructor(deps: KubeNodeInfoDeps) {
    this.core = deps.kubeConfig.makeApiClient(CoreV1Api);
    this.log = deps.logger.child({ component: 'node-info' });
    this.cacheMs = deps.cacheMs ?? 30_000;
  }

  architectures(): Promise<string[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.architectures;
    const architectures = this.list();
    this.cached = { at: now, architectures };
    // A failed answer is not reused.
    architectures.catch(() => (this.cached = undefined));
    return architectures;
  }

  private async list(): Promise<string[]> {
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
