import type { NotifySpec } from '../api/container-version.js';
import type { NotifyEvent, NotifySink } from './notification.js';

/** What the cluster notifies about (config): the sinks that have a URL and the events they get. */
export interface NotifyRouting {
  sinks: readonly NotifySink[];
  events: readonly NotifyEvent[];
}

/**
 * The sinks that get `event` of a CV: the cluster's configured sinks and events, narrowed by the
 * CV's `spec.notify` (unset lists mean "all configured"; a CV can only narrow, never add a sink
 * or an event the cluster does not send). Pure; empty when nobody gets it.
 */
export function sinksFor(
  event: NotifyEvent,
  routing: NotifyRouting,
  narrowing: NotifySpec | undefined,
): NotifySink[] {
  if (!routing.events.includes(event)) return [];
  if (narrowing?.events && !narrowing.events.includes(event)) return [];
  const wanted = narrowing?.sinks;
  return routing.sinks.filter((sink) => !wanted || wanted.includes(sink));
}

/** The CV's page on the dashboard (`<base>/#/cv/<namespace>/<name>`), when a base URL is configured. */
export function dashboardLink(
  base: string | undefined,
  cv: { namespace: string; name: string },
): string | undefined {
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/#/cv/${encodeURIComponent(cv.namespace)}/${encodeURIComponent(cv.name)}`;
}
