/** The BullMQ queues of cvm. Their keys live under the configured prefix (`CVM_QUEUE_PREFIX`). */
export const QueueName = {
  /** One job per accepted PushEvent; the route worker turns each into rollouts. */
  PushEvents: 'push-events',
  /** One job per ContainerVersion to roll out. */
  Rollouts: 'rollouts',
  /** One job per notification to one sink (Slack, Teams, the generic webhook). */
  Notifications: 'notifications',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
