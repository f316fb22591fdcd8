import { readFileSync } from 'node:fs';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  SQSClient,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NORMALIZERS } from '../../src/events/sources/index.js';
import { SqsIntake } from '../../src/receiver/sqs-intake.js';
import { MOTO_AWS, MotoServer } from '../support/moto-server.js';
import { receiverParts } from '../support/receiver-parts.js';
import { TestRedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const template = readFileSync(new URL('../../infra/aws/ecr-events.yaml', import.meta.url), 'utf8');
const DIGEST = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';

let moto: MotoServer;
let sqs: SQSClient;
let events: EventBridgeClient;
let queueUrl: string;
let deadLetterQueueUrl: string;

beforeAll(async () => {
  moto = await MotoServer.start();
  const client = { ...MOTO_AWS, endpoint: moto.endpoint };
  sqs = new SQSClient(client);
  events = new EventBridgeClient(client);
  const cfn = new CloudFormationClient(client);
  await cfn.send(
    new CreateStackCommand({
      StackName: 'cvm-ecr',
      TemplateBody: template,
      Parameters: [{ ParameterKey: 'MaxReceiveCount', ParameterValue: '2' }],
      Capabilities: ['CAPABILITY_IAM'],
    }),
  );
  const stack = await waitFor(async () => {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: 'cvm-ecr' }));
    return Stacks?.[0]?.StackStatus === 'CREATE_COMPLETE' ? Stacks[0] : undefined;
  }, 'the CloudFormation stack');
  const output = (key: string) =>
    stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue ?? '';
  queueUrl = output('QueueUrl');
  deadLetterQueueUrl = output('DeadLetterQueueUrl');
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

async function messagesIn(url: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

function putEcrPush(tag: string) {
  return events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: 'aws.ecr',
          DetailType: 'ECR Image Action',
          Detail: JSON.stringify({
            result: 'SUCCESS',
            'repository-name': 'team/api',
            'image-digest': DIGEST,
            'action-type': 'PUSH',
            'image-tag': tag,
          }),
        },
      ],
    }),
  );
}

function intakeFor(parts: Awaited<ReturnType<typeof receiverParts>>) {
  return new SqsIntake(intakeOptions(parts));
}

function intakeOptions(parts: Awaited<ReturnType<typeof receiverParts>>) {
  return {
    queueUrl,
    sqs,
    endpointOverridden: true,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 2,
    normalize: NORMALIZERS.ecr,
    sinkReady: () => parts.queue.isReady(),
    readinessPollMs: 100,
    ingest: parts.ingest,
    metrics: parts.metrics,
    logger: parts.logger,
  };
}

describe('ECR → EventBridge → SQS → push-events (CloudFormation stack deployed in moto)', () => {
  it('an ECR push becomes exactly one job, and leaves SQS only after the job exists', async () => {
    const parts = await receiverParts();
    const intake = intakeFor(parts);
    try {
      await putEcrPush('prod');
      expect(await messagesIn(queueUrl)).toBe(1);
      await intake.start();
      const [job] = await waitFor(async () => {
        const jobs = await parts.jobs();
        return jobs.length > 0 ? jobs : undefined;
      }, 'a push-events job');
      expect(job?.data).toMatchObject({
        kind: 'push',
        source: 'ecr',
        registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        repository: 'team/api',
        tag: 'prod',
        digest: DIGEST,
      });
      await waitFor(async () => (await messagesIn(queueUrl)) === 0, 'the message to be deleted');
      expect(await parts.jobs()).toHaveLength(1);
      expect(await parts.metric('cvm_sqs_messages_total', { outcome: 'accepted' })).toBe(1);
    } finally {
      await intake.stop();
      await parts.close();
    }
  }, 60_000);

  it('a write refused while the queue reports ready is tried again at once, not given back to SQS (each receive counts towards the redrive)', async () => {
    const parts = await receiverParts();
    // The first write is refused, as a slow first write after Redis came back is (seen in a CI run
    // on a loaded machine: the message went back twice and on to the dead-letter queue).
    let refusals = 1;
    const ingest = {
      ingest: (...args: Parameters<typeof parts.ingest.ingest>) =>
        refusals-- > 0
          ? Promise.resolve({
              status: 'unavailable' as const,
              message: 'enqueue took over 2000 ms',
            })
          : parts.ingest.ingest(...args),
    } as typeof parts.ingest;
    const intake = new SqsIntake({ ...intakeOptions(parts), ingest });
    try {
      await putEcrPush('retried');
      await intake.start();
      const jobs = await waitFor(async () => {
        const found = await parts.jobs();
        return found.length > 0 ? found : undefined;
      }, 'the job');
      expect(jobs.map((j) => j.data.tag)).toEqual(['retried']);
      await waitFor(async () => (await messagesIn(queueUrl)) === 0, 'the message to be deleted');
      expect(await parts.metric('cvm_sqs_messages_total', { outcome: 'unavailable' })).toBe(0);
      expect(await parts.metric('cvm_sqs_messages_total', { outcome: 'accepted' })).toBe(1);
    } finally {
      await intake.stop();
      await parts.close();
    }
  }, 60_000);

  it('while Redis is down the message stays in SQS, unreceived, and is enqueued once Redis is back', async () => {
    const redis = await TestRedisServer.start();
    // Redis is killed just after the queue was created. On a loaded machine (a whole-suite run)
    // BullMQ's INFO from creating the queue was then still in flight; it failed, BullMQ kept that
    // failure as its client, and every enqueue after the restart failed with it (fixed by
    // producerQueueOptions; test/queue/producer-queue-restart.test.ts makes it deterministic). The
    // log line below names the error if a write fails again.
    const parts = await receiverParts(redis.url, { queueOptions: { enqueueTimeoutMs: 10_000 } });
    const intake = intakeFor(parts);
    try {
      await redis.kill(); // a crash after the receiver connected
      await putEcrPush('staging');
      await intake.start();
      await waitFor(
        () =>
          parts.logs.some(
            (l) => l.msg === 'event queue unavailable; not receiving from sqs until it is back',
          ),
        'the intake to wait for Redis',
      );
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // longer than the visibility timeout
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      // Still visible: not received (so not counted towards the redrive policy) while Redis was down.
      expect(Attributes?.ApproximateNumberOfMessages).toBe('1');

      await redis.start();
      const jobs = await waitFor(
        async () => {
          const found = await parts.jobs().catch(() => []);
          return found.length > 0 ? found : undefined;
        },
        'the job after Redis came back',
        { timeoutMs: 20_000 },
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}; redis ${parts.connection.status}; log: ${parts.logs.map((l: any) => l.msg + (l.err ? ` (${l.err.message})` : '')).join(' | ')}`,
        );
      });
      expect(jobs.map((j) => j.data.tag)).toEqual(['staging']);
      await waitFor(async () => (await messagesIn(queueUrl)) === 0, 'the message to be deleted');
    } finally {
      await intake.stop();
      await parts.close();
      await redis.kill();
    }
  }, 60_000);

  it('a message that is not an event moves to the dead-letter queue after MaxReceiveCount deliveries, logged once', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetterQueueUrl }));
    const parts = await receiverParts();
    const intake = intakeFor(parts);
    try {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'this is not JSON' }),
      );
      await intake.start();
      await waitFor(
        async () => (await messagesIn(deadLetterQueueUrl)) === 1,
        'the message in the dead-letter queue',
        { timeoutMs: 20_000 },
      );
      expect(await messagesIn(queueUrl)).toBe(0);
      expect(await parts.jobs()).toHaveLength(0);
      expect(await parts.metric('cvm_sqs_messages_total', { outcome: 'malformed' })).toBe(1);
      expect(
        parts.logs.filter(
          (l) => l.msg === 'sqs message is malformed; left for the dead-letter queue',
        ),
      ).toHaveLength(1);
    } finally {
      await intake.stop();
      await parts.close();
    }
  });

  it('an ECR scan naming more tags than CVM_MAX_EVENTS_PER_DELIVERY is left for the dead-letter queue with the reason, and enqueues nothing', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetterQueueUrl }));
    const parts = await receiverParts(undefined, { ingestOptions: { maxEventsPerDelivery: 2 } });
    const intake = intakeFor(parts);
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({
            version: '0',
            id: '85fc3613-e913-7fc4-a80c-a3753e4aa9ae',
            'detail-type': 'ECR Image Scan',
            source: 'aws.ecr',
            account: '123456789012',
            time: '2019-10-29T02:36:48Z',
            region: 'us-east-1',
            resources: [],
            detail: {
              'scan-status': 'COMPLETE',
              'repository-name': 'team/api',
              'image-digest': DIGEST,
              'image-tags': ['a', 'b', 'c'],
            },
          }),
        }),
      );
      await intake.start();
      await waitFor(
        async () => (await messagesIn(deadLetterQueueUrl)) === 1,
        'the message in the dead-letter queue',
        { timeoutMs: 20_000 },
      );
      expect(await parts.jobs()).toHaveLength(0);
      const logged = parts.logs.filter(
        (l) => l.msg === 'sqs message is malformed; left for the dead-letter queue',
      );
      expect(logged.map((l) => l.reason)).toEqual([
        'the delivery holds 3 events; at most 2 are taken per delivery (CVM_MAX_EVENTS_PER_DELIVERY)',
      ]);
    } finally {
      await intake.stop();
      await parts.close();
    }
  });
});
