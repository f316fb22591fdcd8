import { hostname } from 'node:os';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Reason } from '../api/conditions.js';
import type { Logger } from '../observability/logger.js';
import type { EventRecorder, ObjectReference } from '../workers/ports.js';
import { classifyKubeError, isConflict, isNotFound } from './kube-errors.js';

export interface KubeEventRecorderOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** A repeat within this many ms updates the existing Event; default 600 000 (client-go's 10 min). */
  aggregateWindowMs?: number;
  /** Events remembered for aggregation (least recently used dropped first); default 256. */
  cacheSize?: number;
  /** `reportingInstance`; default the host name (the Pod name in a cluster). */
  instance?: string;
  /** The clock; default `() => new Date()`. */
  now?: () => Date;
}

/** `source.component` of every Event. */
export const EVENT_SOURCE_COMPONENT = 'cvm';
/** `reportingComponent` of every Event. */
export const EVENT_REPORTING_COMPONENT = 'cvm.dev/cvm';

interface Recorded {
  namespace: string;
  name: string;
  count: number;
  lastMs: number;
}

/**
 * {@link EventRecorder} writing core/v1 Events, as `kubectl describe` and `kubectl get events` show
 * them: `involvedObject`, `reason`, `message`, `type`, `source.component: cvm`,
 * `reportingComponent: cvm.dev/cvm`, `firstTimestamp`/`lastTimestamp`, `count`.
 *
 * Aggregation like client-go's: a repeat of the same (object uid, type, reason, message) within
 * `aggregateWindowMs` of its last occurrence patches `count` and `lastTimestamp` of the Event it
 * created (found in a small LRU cache, so a process restart or another replica starts a new
 * Event). Names are `<object>.<hex of the time in ns>`, as client-go names them.
 *
 * Never throws: an Event is a courtesy, and failing to write one must not fail a rollout. Failures
 * are logged at warn with the Status reason only.
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly core: CoreV1Api;
  private readonly log: Logger;
  private readonly windowMs: number;
  private readonly cacheSize: number;
  private readonly instance: string;
  private readonly now: () => Date;
  /** Insertion-ordered: the first key is the least recently used. */
  private readonly recent = new Map<string, Recorded>();
  private sequence = 0;

  constructor(options: KubeEventRecorderOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.log = options.logger.child({ component: 'event-recorder' });
    this.windowMs = options.aggregateWindowMs ?? 600_000;
    this.cacheSize = options.cacheSize ?? 256;
    this.instance = options.instance ?? hostname();
    this.now = options.now ?? (() => new Date());
  }

  async record(
    target: ObjectReference,
    type: 'Normal' | 'Warning',
    reason: Reason,
    message: string,
  ): Promise<void> {
    const key = JSON.stringify([target.uid, target.namespace, target.name, type, reason, message]);
    const now = this.now();
    try {
      const previous = this.recent.get(key);
      if (previous && now.getTime() - previous.lastMs <= this.windowMs) {
        if (await this.bump(previous, now)) {
          this.remember(key, previous);
          return;
        }
      }
      this.remember(key, await this.create(target, type, reason, message, now));
    } catch (error) {
      this.recent.delete(key);
      const { status, reason: failure, message: why } = classifyKubeError(error);
      this.log.warn(
        {
          object: `${target.kind}/${target.namespace}/${target.name}`,
          reason,
          status,
          failure,
          error: why,
        },
        'event not recorded',
      );
    }
  }

  /** Adds one to the Event's count; false when it no longer exists. */
  private async bump(recorded: Recorded, now: Date): Promise<boolean> {
    try {
      await this.core.patchNamespacedEvent(
        {
          name: recorded.name,
          namespace: recorded.namespace,
          body: { count: recorded.count + 1, lastTimestamp: kubeTime(now) },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    recorded.count++;
    recorded.lastMs = now.getTime();
    return true;
  }

  private async create(
    target: ObjectReference,
    type: 'Normal' | 'Warning',
    reason: Reason,
    message: string,
    now: Date,
  ): Promise<Recorded> {
    const namespace = target.namespace || 'default';
    for (let attempt = 0; ; attempt++) {
      const name = this.eventName(target.name, now);
      const body: CoreV1Event = {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          namespace: target.namespace,
          name: target.name,
          uid: target.uid,
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: EVENT_SOURCE_COMPONENT },
        reportingComponent: EVENT_REPORTING_COMPONENT,
        reportingInstance: this.instance,
      };
      try {
        await this.core.createNamespacedEvent({ namespace, body });
        return { namespace, name, count: 1, lastMs: now.getTime() };
      } catch (error) {
        // Two Events in the same nanosecond-derived name: pick the next one.
        if (!isConflict(error) || attempt >= 2) throw error;
      }
    }
  }

  /** client-go's `<name>.<hex UnixNano>`, with a per-process sequence in the sub-ms digits. */
  private eventName(objectName: string, now: Date): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence);
    return `${objectName.slice(0, 253 - 17)}.${nanos.toString(16)}`;
  }

  private remember(key: string, recorded: Recorded): void {
    this.recent.delete(key);
    this.recent.set(key, recorded);
    while (this.recent.size > this.cacheSize) {
      const oldest = this.recent.keys().next();
      if (oldest.done) break;
      this.recent.delete(oldest.value);
    }
  }
}

/** RFC 3339 with second precision, as metav1.Time is written. */
function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
