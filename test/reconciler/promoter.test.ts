import { describe, expect, it } from 'vitest';
import type { ContainerVersionStatus } from '../../src/api/container-version.js';
import { createLogger } from '../../src/observability/logger.js';
import { Promoter } from '../../src/reconciler/promoter.js';
import type { TagMove, TagWriter } from '../../src/registry/registry-client.js';
import type { HistoryEntry, StoredContainerVersion } from '../../src/workers/ports.js';
import { waitFor } from '../support/wait-for.js';

const A = `sha256:${'a'.repeat(64)}`;
const LONG_AGO = '2026-01-01T00:00:00.000Z';

/** A staging CV whose digest soaked long ago, with an in-memory store whose status writes fail `failures` times. */
function parts(failures: number) {
  let status: ContainerVersionStatus = {
    currentDigest: A,
    currentVersion: 'sha-a',
    lastRollout: {
      version: 'sha-a',
      digest: A,
      startedAt: LONG_AGO,
      finishedAt: LONG_AGO,
      result: 'Succeeded',
      message: '',
    },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'RolloutSucceeded',
        message: '',
        lastTransitionTime: LONG_AGO,
      },
    ],
  };
  const cv = (): StoredContainerVersion => ({
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name: 'api', namespace: 'staging', uid: 'u', generation: 1, resourceVersion: '1' },
    spec: {
      imageRepo: 'registry.example.com/team/api',
      tag: 'staging',
      selector: { app: 'api' },
      container: 'api',
      promotion: { tag: 'prod', afterSeconds: 60 },
    },
    status,
  });
  let at: string | undefined;
  const writes: string[] = [];
  const events: string[] = [];
  const history: HistoryEntry[] = [];
  const tags: TagWriter = {
    moveTag: (_repo, digest, tag): Promise<TagMove> => {
      const result = at === digest ? 'unchanged' : 'moved';
      if (result === 'moved') writes.push(`${tag}=${digest}`);
      at = digest;
      return Promise.resolve({ tag, digest, result });
    },
  };
  let left = failures;
  const promoter = new Promoter({
    source: { list: () => [cv()], onChange: () => () => undefined },
    store: {
      get: () => Promise.resolve(cv()),
      patchStatus: (_key, patch) => {
        if (left-- > 0) return Promise.reject(new Error('api server: 503'));
        status = { ...status, ...patch };
        return Promise.resolve(cv());
      },
    },
    events: {
      record: (_t, _type, reason) => {
        events.push(reason);
        return Promise.resolve();
      },
    },
    history: {
      add: (_cv, entry) => {
        if (!history.some((e) => e.id === entry.id)) history.push(entry);
        return Promise.resolve();
      },
      list: () => Promise.resolve(history),
    },
    tags: { tagWriterFor: () => tags },
    logger: createLogger({ level: 'silent' }),
    retryMs: 50,
  });
  return { promoter, writes, events, history, status: () => status };
}

describe('Promoter (in-memory ports)', () => {
  it('a status write that fails is retried after retryMs; the tag is written once, one Event, one history entry', async () => {
    const p = parts(2);
    await p.promoter.start();
    try {
      const status = await waitFor(
        () => Promise.resolve(p.status().lastPromotion ? p.status() : undefined),
        'the promotion to be recorded',
        { timeoutMs: 5_000, intervalMs: 20 },
      );
      expect(status.lastPromotion).toMatchObject({
        tag: 'prod',
        digest: A,
        result: 'AlreadyThere',
      });
      expect(p.writes).toEqual([`prod=${A}`]);
      expect(p.events).toEqual(['Promoted']);
      expect(p.history).toHaveLength(1);
    } finally {
      await p.promoter.stop();
    }
  });

  it('promote() on a CV already promoted says why and moves nothing', async () => {
    const p = parts(0);
    expect(await p.promoter.promote({ namespace: 'staging', name: 'api' })).toMatchObject({
      result: 'moved',
    });
    expect(await p.promoter.promote({ namespace: 'staging', name: 'api' })).toEqual({
      action: 'none',
      reason: 'AlreadyPromoted',
    });
    expect(p.writes).toHaveLength(1);
    expect(p.status().lastPromotion?.result).toBe('Promoted');
  });
});
