import type { EmulatorClock, KubeObject, ObjectStore } from '../contract.js';
import { kubeTime } from './kube-time.js';

/** Who reports an Event: `deployment-controller`, `replicaset-controller`, `default-scheduler`… */
export type EventSource = string;

export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

function involvedObject(object: KubeObject): Record<string, string> {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name ?? '',
    namespace: object.metadata.namespace ?? '',
    resourceVersion: object.metadata.resourceVersion ?? '',
    uid: object.metadata.uid ?? '',
  };
}

/**
 * Writes core/v1 Events as the controllers of a v1.24 control plane do (reference captures,
 * events-core-v1.json): named `<object>.<hex nanoseconds>`, `source.component` set, and a repeat of
 * the same reason and message on the same object counted (`count`, `lastTimestamp`) rather than
 * written again. The scheduler's `Scheduled` events use the events.k8s.io shape
 * (`eventTime`, `reportingComponent`, `action: Binding`), as in the capture.
 */
export class EventRecorder {
  private readonly seen = new Map<string, string>();
  private sequence = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: EmulatorClock,
  ) {}

  /** Records `event` on `object`; a failure to write an Event never fails the caller. */
  record(object: KubeObject, source: EventSource, event: RecordedEvent): void {
    try {
      if (source === 'default-scheduler') this.writeSchedulerEvent(object, event);
      else this.writeControllerEvent(object, source, event);
    } catch {
      // Events are best effort in Kubernetes as well.
    }
  }

  private eventName(object: KubeObject): string {
    const nanos = BigInt(this.clock.now()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
    return `${object.metadata.name ?? 'unknown'}.${nanos.toString(16)}`;
  }

  private writeControllerEvent(
    object: KubeObject,
    source: EventSource,
    event: RecordedEvent,
  ): void {
    const now = kubeTime(this.clock.now());
    const key = [object.metadata.uid, source, event.type, event.reason, event.message].join(
      '\u0000',
    );
    const namespace = object.metadata.namespace ?? 'default';
    const existingName = this.seen.get(key);
    const existing = existingName ? this.store.get('events', namespace, existingName) : undefined;
    if (existing) {
      const count = typeof existing.count === 'number' ? existing.count : 1;
      this.store.update('events', { ...existing, count: count + 1, lastTimestamp: now });
      return;
    }
    const created = this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: this.eventName(object), namespace },
      involvedObject: involvedObject(object),
      reason: event.reason,
      message: event.message,
      source: { component: source },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type: event.type,
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    });
    this.seen.set(key, created.metadata.name ?? '');
  }

  private writeSchedulerEvent(object: KubeObject, event: RecordedEvent): void {
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: this.eventName(object), namespace: object.metadata.namespace ?? 'default' },
      involvedObject: involvedObject(object),
      action: 'Binding',
      reason: event.reason,
      message: event.message,
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: microTime(this.clock.now()),
      type: event.type,
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler-kube-emulator',
    });
  }
}
