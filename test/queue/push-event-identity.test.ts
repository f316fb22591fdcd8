import { describe, expect, it } from 'vitest';
import type { PushEvent } from '../../src/events/push-event.js';
import { pushEventJobId } from '../../src/queue/push-event-queue.js';

const base: PushEvent = {
  kind: 'push',
  source: 'generic',
  registry: 'ghcr.io',
  repository: 'acme/api',
  tag: 'abc123',
  digest: 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6',
  sourceEventId: 'pipeline-7',
  receivedAt: '2026-01-01T00:00:00.000Z',
};

describe('pushEventJobId', () => {
  it('is the same for a redelivery (only the time of receipt differs)', () => {
    expect(pushEventJobId({ ...base, receivedAt: '2026-01-02T00:00:00.000Z' })).toBe(
      pushEventJobId(base),
    );
  });

  it.each<[string, Partial<PushEvent>]>([
    ['source', { source: 'distribution' }],
    ['kind', { kind: 'scan' }],
    ['registry', { registry: 'quay.io' }],
    ['repository', { repository: 'acme/worker' }],
    ['tag', { tag: 'abc124' }],
    [
      'digest',
      { digest: 'sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51' },
    ],
    ['event id', { sourceEventId: 'pipeline-8' }],
  ])('differs when the %s differs', (_field, change) => {
    expect(pushEventJobId({ ...base, ...change })).not.toBe(pushEventJobId(base));
  });

  it('holds no ":" (BullMQ refuses such custom ids)', () => {
    expect(pushEventJobId(base)).not.toContain(':');
  });
});
