import type { RawDelivery } from '../push-event.js';
import { optionalRfc3339Time } from './event-time.js';
import { JsonField } from './json-field.js';

/** A Pub/Sub message as a push subscription delivers it, with its data decoded. */
export interface PubsubMessage {
  /** The decoded `data`, as a payload root whose paths start with `message.data`. */
  data: JsonField;
  messageId: string | undefined;
  /** RFC 3339, UTC, milliseconds. */
  publishTime: string | undefined;
}

/** Standard or URL-safe base64, padding optional. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Reads a Pub/Sub push delivery in either form: the wrapped envelope
 * `{message: {data: <base64 JSON>, messageId|message_id, publishTime|publish_time}, subscription}`,
 * or the unwrapped body (`--push-no-wrapper`) that is the message data itself, with metadata in
 * the `x-goog-pubsub-message-id` and `x-goog-pubsub-publish-time` headers when the subscription
 * writes them.
 *
 * @throws {MalformedEventError} naming `message.data` when the data is not base64-encoded UTF-8
 *   JSON, or naming the field of an invalid id or time.
 */
export function pubsubMessage(delivery: RawDelivery): PubsubMessage {
  const body = JsonField.root(delivery.body);
  if (!body.isObject || body.get('message').isAbsent) {
    return {
      data: body,
      messageId: nonEmpty(delivery.headers['x-goog-pubsub-message-id']),
      publishTime: optionalRfc3339Time(
        JsonField.root(
          delivery.headers['x-goog-pubsub-publish-time'],
          'headers.x-goog-pubsub-publish-time',
        ),
      ),
    };
  }
  const message = body.get('message');
  return {
    data: JsonField.root(decodeData(message.get('data')), 'message.data'),
    messageId:
      message.get('messageId').optionalNonEmptyString() ??
      message.get('message_id').optionalNonEmptyString(),
    publishTime:
      optionalRfc3339Time(message.get('publishTime')) ??
      optionalRfc3339Time(message.get('publish_time')),
  };
}

function decodeData(field: JsonField): unknown {
  const text = field.string();
  if (!BASE64.test(text)) field.fail('expected base64-encoded JSON, but it is not base64');
  try {
    const json = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'base64'));
    return JSON.parse(json) as unknown;
  } catch {
    return field.fail('expected base64-encoded JSON, but the decoded data is not UTF-8 JSON');
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === '' ? undefined : text;
}
