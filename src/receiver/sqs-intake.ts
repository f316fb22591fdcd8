import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { Normalizer } from '../events/push-event.js';
import { QUEUE_ACCOUNT_HEADER } from '../events/sources/ecr.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Ingest } from './ingest.js';

/** Writes refused while the event queue reports ready, tried again before the message goes back. */
const UNAVAILABLE_RETRIES = 2;
const UNAVAILABLE_RETRY_MS = 250;
export interface SqsIntakeOptions {
  queueUrl: string;
  /** A client configured with region, credentials and, for moto or LocalStack, an endpoint. */
  sqs: SQSClient;
  /** True when `sqs` has its own endpoint; otherwise requests go to the queue URL's host. */
  endpointOverridden: boolean;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  /**
   * Whether the queue can take events. While it cannot, no message is received: every receive
   * would count towards the redrive policy and move good events to the dead-letter queue.
   */
  sinkReady: () => boolean;
  /** How often readiness is checked while waiting. Default 500 ms. */
  readinessPollMs?: number;
  /** The ECR normalizer: raw EventBridge events and SNS-wrapped ones. */
  normalize: Normalizer;
  ingest: Ingest;
  metrics: Metrics;
  logger: Logger;
}

/** Remembers the last few malformed message ids, so each is logged once however often SQS redelivers it. */
const MALFORMED_MEMORY = 1_000;

/**
 * Long-polls the SQS queue an EventBridge rule fills with ECR events. A message is deleted only once
 * its events are enqueued (or it holds nothing deployable); one that cannot be parsed stays for the
 * queue's redrive policy to move to the dead-letter queue; while Redis is down, messages stay and
 * come back after the visibility timeout.
 */
export class SqsIntake implements Runnable {
  readonly name = 'sqs-intake';
  readonly #consumer: Consumer;
  readonly #malformedSeen = new Set<string>();
  readonly #log: Logger;
  /** The queue's account (`/123456789012/name` in its URL), for events that lack `account`. */
  readonly #headers: Record<string, string>;
  #stopping: Promise<void> | undefined;

  constructor(private readonly options: SqsIntakeOptions) {
    this.#log = options.logger.child({ component: 'sqs-intake' });
    const account = /^\/(\d{12})\//.exec(new URL(options.queueUrl).pathname)?.[1];
    this.#headers = account ? { [QUEUE_ACCOUNT_HEADER]: account } : {};
    this.#consumer = Consumer.create({
      queueUrl: options.queueUrl,
      sqs: options.sqs,
      batchSize: 10,
      waitTimeSeconds: options.waitTimeSeconds,
      visibilityTimeout: options.visibilityTimeoutSeconds,
      // Keeps a message hidden while its batch is still being enqueued.
      ...(options.visibilityTimeoutSeconds > 1
        ? { heartbeatInterval: Math.max(1, Math.floor(options.visibilityTimeoutSeconds / 3)) }
        : {}),
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      useQueueUrlAsEndpoint: !options.endpointOverridden,
      handleMessageBatch: (messages) => this.#handleBatch(messages),
      preReceiveMessageCallback: () => this.#untilSinkReady(),
    });
    this.#consumer.on('error', (error) =>
      this.#log.warn({ err: { message: error.message } }, 'sqs receive failed'),
    );
    this.#consumer.on('processing_error', (error) =>
      this.#log.warn({ err: { message: error.message } }, 'sqs batch failed'),
    );
  }

  start(): Promise<void> {
    this.#consumer.start();
    this.#log.info({ queueUrl: this.options.queueUrl }, 'sqs intake started');
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      if (!this.#consumer.status.isRunning) return resolve();
      this.#consumer.once('stopped', () => resolve());
      this.#consumer.stop({ abort: true });
    });
    return this.#stopping;
  }

  async #untilSinkReady(): Promise<void> {
    if (this.options.sinkReady()) return;
    this.#log.warn('event queue unavailable; not receiving from sqs until it is back');
    while (!this.options.sinkReady() && this.#stopping === undefined) {
      await new Promise((resolve) => setTimeout(resolve, this.options.readinessPollMs ?? 500));
    }
    if (this.#stopping === undefined)
      this.#log.info('event queue available; receiving from sqs again');
  }

  /** Returns the messages to delete. */
  async #handleBatch(messages: Message[]): Promise<Message[]> {
    const results = await Promise.all(messages.map((message) => this.#handle(message)));
    return messages.filter((_message, index) => results[index]);
  }

  /** True when the message is done with and may be deleted. */
  async #handle(message: Message): Promise<boolean> {
    let body: unknown;
    try {
      body = JSON.parse(message.Body ?? '');
    } catch {
      return this.#malformed(message, 'body: invalid JSON');
    }
    const receivedAt = new Date();
    let result = await this.#ingest(body, receivedAt);
    // Refused while the connection says it is ready (a slow first write after Redis came back):
    // tried again here, since each receive counts towards the redrive policy. Intake writes are
    // idempotent, so a write that did land is not doubled.
    for (let retry = 1; result.status === 'unavailable' && retry <= UNAVAILABLE_RETRIES; retry++) {
      if (!this.options.sinkReady() || this.#stopping !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, UNAVAILABLE_RETRY_MS * retry));
      result = await this.#ingest(body, receivedAt);
    }
    switch (result.status) {
      case 'malformed':
      case 'too_many':
        return this.#malformed(message, result.message);
      case 'unavailable':
        this.options.metrics.sqsMessages.inc({ outcome: 'unavailable' });
        return false;
      case 'ignored':
        this.options.metrics.sqsMessages.inc({ outcome: 'ignored' });
        return true;
      case 'accepted':
        this.options.metrics.sqsMessages.inc({
          outcome: result.outcomes.every((o) => o.duplicate) ? 'duplicate' : 'accepted',
        });
        return true;
    }
  }

  #ingest(body: unknown, receivedAt: Date) {
    return this.options.ingest.ingest('ecr', this.options.normalize, {
      body,
      headers: this.#headers,
      receivedAt,
    });
  }

  #malformed(message: Message, reason: string): false {
    const id = message.MessageId ?? '';
    if (!this.#malformedSeen.has(id)) {
      this.#malformedSeen.add(id);
      this.options.metrics.sqsMessages.inc({ outcome: 'malformed' });
      if (this.#malformedSeen.size > MALFORMED_MEMORY)
        this.#malformedSeen.delete(this.#malformedSeen.values().next().value!);
      this.#log.warn(
        { messageId: id, reason },
        'sqs message is malformed; left for the dead-letter queue',
      );
    }
    return false;
  }
}
