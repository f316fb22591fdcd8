import type { Normalized, Normalizer, PushEvent } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { perTagEventId } from './event-id.js';
import { optionalRfc3339Time } from './event-time.js';
import { ignore } from './ignore.js';
import { imageTarget, type ImageTarget } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';
import { judgeEach, withInvalid } from './judge-each.js';
import { sha256Digest } from './sha256-digest.js';

const ACCOUNT_ID = /^\d{12}$/;
/** `us-east-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-4`. */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/**
 * Amazon ECR events from EventBridge (registry-events.md §1). The body is the EventBridge event
 * itself (SQS body or API destination), or an SNS notification whose `Message` is that event
 * (EventBridge → SNS → SQS without raw delivery); both SQS paths share this normalizer.
 *
 * - `ECR Image Action` with `action-type` PUSH, `result` SUCCESS and a non-empty `image-tag`: one
 *   `push` event; registry `<account>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in
 *   `cn-` regions), `sourceEventId` the event `id`, `occurredAt` its `time`.
 * - `ECR Image Scan` with `scan-status` COMPLETE: one `scan` event per entry of `image-tags`,
 *   `sourceEventId` `<id>/<tag>`.
 * - Invalid, one message per entry of a scan's `image-tags` that is not a valid tag; the other
 *   tags are still enqueued.
 * - Ignored: deletes and other actions, non-SUCCESS results, untagged pushes (children of a
 *   multi-arch index), FAILED scans, scans of untagged images, other detail-types and sources.
 *
 * @throws {MalformedEventError} for a supported event without a valid `account`, `region`,
 *   `detail`, `detail.repository-name` or `detail.image-digest`, or an invalid `time`.
 */
export const normalizeEcr: Normalizer = (delivery) => {
  const unwrapped = unwrapSns(JsonField.root(delivery.body));
  if (!(unwrapped instanceof JsonField)) return unwrapped;
  const event = unwrapped;
  const fallbackAccount = delivery.headers[QUEUE_ACCOUNT_HEADER];
  const source = event.get('source').string();
  const detailType = event.get('detail-type').string();
  if (source === 'aws.ecr' && detailType === 'ECR Image Action') {
    return imageAction(event, delivery.receivedAt, fallbackAccount);
  }
  if (source === 'aws.ecr' && detailType === 'ECR Image Scan') {
    return imageScan(event, delivery.receivedAt, fallbackAccount);
  }
  return ignore(`unsupported event type ${quoteText(detailType)} from ${quoteText(source)}`);
};

function imageAction(
  event: JsonField,
  receivedAt: Date,
  fallbackAccount: string | undefined,
): Normalized {
  const detail = event.get('detail');
  const action = detail.get('action-type').string();
  if (action !== 'PUSH') return ignore(`ECR image action ${quoteText(action)} is not a push`);
  const result = detail.get('result').string();
  if (result !== 'SUCCESS') return ignore(`ECR push did not succeed (result ${quoteText(result)})`);
  const image = imageFacts(event, fallbackAccount);
  const tag = detail.get('image-tag').optionalString() ?? '';
  if (tag === '') return ignore(`push of an untagged image (${image.digest})`);
  const pushEvent = buildPushEvent({
    source: 'ecr',
    target: image.target(tag, 'detail.image-tag'),
    digest: image.digest,
    sourceEventId: image.id,
    occurredAt: image.occurredAt,
    receivedAt,
  });
  return { events: [pushEvent], ignored: [] };
}

function imageScan(
  event: JsonField,
  receivedAt: Date,
  fallbackAccount: string | undefined,
): Normalized {
  const detail = event.get('detail');
  const status = detail.get('scan-status').string();
  if (status !== 'COMPLETE') return ignore(`ECR scan status ${quoteText(status)}`);
  const image = imageFacts(event, fallbackAccount);
  const tagsField = detail.get('image-tags');
  const tags = tagsField.isAbsent ? [] : tagsField.items();
  if (tags.length === 0) return ignore('scan of an untagged image');
  const events = new Map<string, PushEvent>();
  const { invalid } = judgeEach(tags, (tagField) => {
    const tag = tagField.string();
    events.set(
      tag,
      buildPushEvent({
        kind: 'scan',
        source: 'ecr',
        target: image.target(tag, tagField.path),
        digest: image.digest,
        sourceEventId: image.id === undefined ? undefined : perTagEventId(image.id, tag),
        occurredAt: image.occurredAt,
        receivedAt,
      }),
    );
  });
  return withInvalid({ events: [...events.values()], ignored: [] }, invalid);
}

/** What Image Action and Image Scan events share: the image and the envelope's id and time. */
function imageFacts(
  event: JsonField,
  fallbackAccount: string | undefined,
): {
  digest: string;
  id: string | undefined;
  occurredAt: string | undefined;
  target: (tag: string, tagPath: string) => ImageTarget;
} {
  const detail = event.get('detail');
  const repository = detail.get('repository-name').nonEmptyString();
  const digest = sha256Digest(detail.get('image-digest'));
  const registry = registryHost(event, fallbackAccount);
  return {
    digest,
    id: event.get('id').optionalNonEmptyString(),
    occurredAt: optionalRfc3339Time(event.get('time')),
    target: (tag, tagPath) =>
      imageTarget({
        registry: { value: registry, path: 'region' },
        repository: { value: repository, path: 'detail.repository-name' },
        tag: { value: tag, path: tagPath },
      }),
  };
}

/**
 * Header the SQS intake sets to the queue's own account: EventBridge always sends `account`, but
 * emulators (moto) leave it out, and a rule on the default bus delivers its own account's events.
 */
export const QUEUE_ACCOUNT_HEADER = 'x-cvm-queue-account';

function registryHost(event: JsonField, fallbackAccount: string | undefined): string {
  const accountField = event.get('account');
  const account =
    accountField.isAbsent && fallbackAccount !== undefined
      ? fallbackAccount
      : accountField.string();
  if (!ACCOUNT_ID.test(account)) {
    accountField.fail(`expected a 12-digit AWS account id, got ${quoteText(account)}`);
  }
  const regionField = event.get('region');
  const region = regionField.string();
  if (!REGION.test(region)) {
    regionField.fail(`expected an AWS region such as us-east-1, got ${quoteText(region)}`);
  }
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}`;
}

/**
 * The EventBridge event inside an SNS notification, or the body itself when it is no SNS
 * message; a {@link Normalized} for SNS messages that carry no event (subscription confirmations).
 */
function unwrapSns(body: JsonField): JsonField | Normalized {
  if (!body.isObject) return body;
  const type = body.get('Type');
  if (type.isAbsent) return body;
  const snsType = type.string();
  if (snsType !== 'Notification') return ignore(`SNS message type ${quoteText(snsType)}`);
  const message = body.get('Message');
  const text = message.string();
  try {
    return JsonField.root(JSON.parse(text) as unknown, 'Message');
  } catch {
    return message.fail('expected an EventBridge event as a JSON string, but it is not JSON');
  }
}
