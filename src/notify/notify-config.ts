import type { Config } from '../config/config.js';
import type { NotifySink } from './notification.js';
import type { SinkTargets } from './notification-delivery.js';
import type { NotifyRouting } from './notify-filter.js';

/** The sinks that have a URL in the configuration. */
export function sinkTargets(config: Config): SinkTargets {
  return {
    ...(config.notifySlackUrl ? { slack: config.notifySlackUrl } : {}),
    ...(config.notifyTeamsUrl ? { teams: config.notifyTeamsUrl } : {}),
    ...(config.notifyWebhookUrl && config.notifyWebhookSecret
      ? { webhook: { url: config.notifyWebhookUrl, secret: config.notifyWebhookSecret } }
      : {}),
  };
}

/** The cluster's routing: configured sinks and CVM_NOTIFY_EVENTS. */
export function notifyRouting(config: Config): NotifyRouting {
  const targets = sinkTargets(config);
  return {
    sinks: (Object.keys(targets) as NotifySink[]).filter((s) => targets[s] !== undefined),
    events: config.notifyEvents,
  };
}
