import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/lifecycle/lifecycle.js';
import { createLogger } from '../../src/observability/logger.js';
import { recordingRunnable } from '../support/fake-runnable.js';

const logger = createLogger({ level: 'silent' });

describe('Lifecycle', () => {
  it('starts in order and stops in reverse order', async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle({ logger, stopTimeoutMs: 1_000 });
    for (const name of ['redis', 'workers', 'receiver'])
      lifecycle.add(recordingRunnable(name, journal));
    await lifecycle.start();
    await lifecycle.stop();
    expect(journal).toEqual([
      'start redis',
      'start workers',
      'start receiver',
      'stop receiver',
      'stop workers',
      'stop redis',
    ]);
  });

  it('stop is idempotent and concurrent stops share one run', async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle({ logger, stopTimeoutMs: 1_000 });
    lifecycle.add(recordingRunnable('a', journal, { stopMs: 20 }));
    await lifecycle.start();
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    expect(journal).toEqual(['start a', 'stop a']);
  });

  it('a component that fails to start stops the ones already started and reports which failed', async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle({ logger, stopTimeoutMs: 1_000 });
    lifecycle.add(recordingRunnable('redis', journal));
    lifecycle.add(recordingRunnable('receiver', journal, { failStart: true }));
    await expect(lifecycle.start()).rejects.toThrow('receiver failed to start');
    expect(journal).toEqual(['start redis', 'stop redis']);
  });

  it('a component that hangs or throws does not keep the others from stopping, within the deadline', async () => {
    const journal: string[] = [];
    const lifecycle = new Lifecycle({ logger, stopTimeoutMs: 150 });
    lifecycle.add(recordingRunnable('redis', journal));
    lifecycle.add(recordingRunnable('workers', journal, { stopMs: 10_000 }));
    lifecycle.add(recordingRunnable('receiver', journal, { failStop: true }));
    await lifecycle.start();
    const started = Date.now();
    const result = await lifecycle.stopAll();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toEqual({ clean: false, failed: ['receiver', 'workers'] });
    expect(journal).toContain('stop redis');
  });
});
