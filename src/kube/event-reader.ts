import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { toKubeApiError } from './kube-errors.js';

export interface KubeEventReaderOptions {
  kubeConfig: KubeConfig;
}

/** A core/v1 Event as people read it (`kubectl describe`). */
export interface EventView {
  type: string;
  reason: string;
  message: string;
  count: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  involvedObject: { kind: string; namespace?: string; name: string };
}

/**
 * Reads the Events of one object (`involvedObject.kind` and `.name` field selectors, in its
 * namespace), newest first by `lastTimestamp`. One API request per call: Events are read on
 * demand for a detail view, not cached. Failures throw a `KubeApiError`.
 */
export class KubeEventReader {
  private readonly core: CoreV1Api;

  constructor(options: KubeEventReaderOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  async list(object: { kind: string; namespace: string; name: string }): Promise<EventView[]> {
    try {
      const list = await this.core.listNamespacedEvent({
        namespace: object.namespace,
        fieldSelector: `involvedObject.kind=${object.kind},involvedObject.name=${object.name}`,
      });
      return list.items.map(toView).sort((a, b) => time(b) - time(a));
    } catch (error) {
      throw toKubeApiError(
        error,
        `list Events of ${object.kind} ${object.namespace}/${object.name}`,
      );
    }
  }
}

const iso = (t: Date | string | undefined) =>
  t === undefined ? undefined : new Date(t).toISOString();

function toView(e: CoreV1Event): EventView {
  const first = iso(e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp);
  const last = iso(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp);
  return {
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: e.message ?? '',
    count: e.count ?? 1,
    ...(first ? { firstTimestamp: first } : {}),
    ...(last ? { lastTimestamp: last } : {}),
    involvedObject: {
      kind: e.involvedObject.kind ?? '',
      ...(e.involvedObject.namespace ? { namespace: e.involvedObject.namespace } : {}),
      name: e.involvedObject.name ?? '',
    },
  };
}

const time = (e: EventView) => Date.parse(e.lastTimestamp ?? e.firstTimestamp ?? '') || 0;
