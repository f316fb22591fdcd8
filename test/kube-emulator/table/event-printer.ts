import type { KubeObject } from '../contract.js';
import { ageSince } from './human-duration.js';
import { column, nameDescription, type TablePrinter } from './table-printer.js';

/** The fields printEvent reads, in the internal Event's names (core/v1 and events.k8s.io/v1 map onto them). */
interface EventView {
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
  series?: { count?: number; lastObservedTime?: string };
  involvedObject: { kind?: string; name?: string; fieldPath?: string };
  type?: string;
  reason?: string;
  source?: { component?: string; host?: string };
  reportingController?: string;
  reportingInstance?: string;
  message?: string;
}

function view(event: KubeObject): EventView {
  const e = event as unknown as Record<string, unknown>;
  if (event.apiVersion === 'events.k8s.io/v1' || 'regarding' in e) {
    return {
      firstTimestamp: e.deprecatedFirstTimestamp as string,
      lastTimestamp: e.deprecatedLastTimestamp as string,
      eventTime: e.eventTime as string,
      count: e.deprecatedCount as number,
      series: e.series as EventView['series'],
      involvedObject: e.regarding ?? {},
      type: e.type as string,
      reason: e.reason as string,
      source: e.deprecatedSource as EventView['source'],
      reportingController: e.reportingController as string,
      reportingInstance: e.reportingInstance as string,
      message: e.note as string,
    };
  }
  return {
    ...(e as unknown as EventView),
    involvedObject: e.involvedObject ?? {},
    reportingController: e.reportingComponent as string,
  };
}

function source(e: EventView): string {
  const component = e.source?.component || e.reportingController || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance === '' ? component : `${component}, ${instance}`;
}

function cells(event: KubeObject, nowMs: number): (string | number)[] {
  const e = view(event);
  const first = e.firstTimestamp ? ageSince(e.firstTimestamp, nowMs) : ageSince(e.eventTime, nowMs);
  let last = e.lastTimestamp ? ageSince(e.lastTimestamp, nowMs) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = ageSince(e.series.lastObservedTime, nowMs);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  const kind = (e.involvedObject.kind ?? '').toLowerCase();
  const target = e.involvedObject.name ? `${kind}/${e.involvedObject.name}` : kind;
  return [
    last,
    e.type ?? '',
    e.reason ?? '',
    target,
    e.involvedObject.fieldPath ?? '',
    source(e),
    (e.message ?? '').trim(),
    first,
    count,
    event.metadata.name ?? '',
  ];
}

/** printEvent for core/v1 and events.k8s.io/v1 Events (kube-apiserver prints both the same way). */
export const eventPrinter: TablePrinter = {
  columns: [
    column('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
    column(
      'Reason',
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    column('Object', 'The object that this event is about.'),
    column(
      'Subobject',
      'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.',
      { wide: true },
    ),
    column(
      'Source',
      'The component reporting this event. Should be a short machine understandable string.',
      { wide: true },
    ),
    column('Message', 'A human-readable description of the status of this operation.'),
    column(
      'First Seen',
      'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
      { wide: true },
    ),
    column('Count', 'The number of times this event has occurred.', { wide: true }),
    column('Name', nameDescription, { format: 'name', wide: true }),
  ],
  cells,
};
