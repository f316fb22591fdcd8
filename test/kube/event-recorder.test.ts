import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reason } from '../../src/api/conditions.js';
import { KubeEventRecorder } from '../../src/kube/event-recorder.js';
import type { ObjectReference } from '../../src/workers/ports.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

let env: KubeTestEnv;
let ns: string;
let target: ObjectReference;

beforeAll(async () => {
  env = await startKubeTestEnv();
  ns = await env.namespace('events-test');
  const cv = await env.createCv(ns, 'api');
  target = {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    namespace: ns,
    name: 'api',
    uid: cv.metadata.uid,
  };
});
afterAll(async () => {
  await env?.stop();
});

const silent = pino({ level: 'silent' });
const eventsOf = async (name: string) =>
  (
    await env.core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${name}`,
    })
  ).items;

describe('KubeEventRecorder', () => {
  it('creates a core/v1 Event on the object, with cvm as source', async () => {
    const recorder = new KubeEventRecorder({
      kubeConfig: env.kubeConfig,
      logger: silent,
      instance: 'cvm-0',
    });
    await recorder.record(target, 'Normal', Reason.RolloutStarted, 'rolling out v2');
    const [event, ...rest] = await eventsOf('api');
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      involvedObject: {
        apiVersion: 'cvm.dev/v1',
        kind: 'ContainerVersion',
        namespace: ns,
        name: 'api',
        uid: target.uid,
      },
      reason: 'RolloutStarted',
      message: 'rolling out v2',
      type: 'Normal',
      count: 1,
      source: { component: 'cvm' },
      reportingComponent: 'cvm.dev/cvm',
      reportingInstance: 'cvm-0',
    });
    expect(event?.metadata?.name).toMatch(/^api\.[0-9a-f]+$/);
    expect(event?.firstTimestamp).toBeInstanceOf(Date);
    expect(event?.lastTimestamp?.getTime()).toBe(event?.firstTimestamp?.getTime());
  });

  it('aggregates a repeat within the window into count and lastTimestamp; a new message is a new Event', async () => {
    const cv = await env.createCv(ns, 'agg');
    const ref = { ...target, name: 'agg', uid: cv.metadata.uid };
    let nowMs = Date.parse('2026-01-01T00:00:00Z');
    const recorder = new KubeEventRecorder({
      kubeConfig: env.kubeConfig,
      logger: silent,
      aggregateWindowMs: 60_000,
      now: () => new Date(nowMs),
    });
    await recorder.record(ref, 'Warning', Reason.RolloutFailed, 'deadline exceeded');
    nowMs += 30_000;
    await recorder.record(ref, 'Warning', Reason.RolloutFailed, 'deadline exceeded');
    nowMs += 30_000;
    await recorder.record(ref, 'Warning', Reason.RolloutFailed, 'deadline exceeded');
    await recorder.record(ref, 'Warning', Reason.RolloutFailed, 'another message');
    let events = await eventsOf('agg');
    expect(events.map((e) => [e.message, e.count]).sort()).toEqual([
      ['another message', 1],
      ['deadline exceeded', 3],
    ]);
    const repeated = events.find((e) => e.message === 'deadline exceeded');
    expect(repeated?.firstTimestamp?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(repeated?.lastTimestamp?.toISOString()).toBe('2026-01-01T00:01:00.000Z');

    nowMs += 61_000; // past the window: a new Event
    await recorder.record(ref, 'Warning', Reason.RolloutFailed, 'deadline exceeded');
    events = await eventsOf('agg');
    expect(
      events
        .filter((e) => e.message === 'deadline exceeded')
        .map((e) => e.count)
        .sort(),
    ).toEqual([1, 3]);
  });

  it('re-creates an aggregated Event that was deleted meanwhile', async () => {
    const cv = await env.createCv(ns, 'gone');
    const ref = { ...target, name: 'gone', uid: cv.metadata.uid };
    const recorder = new KubeEventRecorder({ kubeConfig: env.kubeConfig, logger: silent });
    await recorder.record(ref, 'Normal', Reason.Synced, 'ok');
    const [first] = await eventsOf('gone');
    await env.core.deleteNamespacedEvent({ namespace: ns, name: first?.metadata?.name ?? '' });
    await recorder.record(ref, 'Normal', Reason.Synced, 'ok');
    expect((await eventsOf('gone')).map((e) => e.count)).toEqual([1]);
  });

  it('never throws: a failing API server is logged and the call resolves', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const recorder = new KubeEventRecorder({ kubeConfig: env.kubeConfig, logger });
    env.emulator.faults.inject({
      method: 'POST',
      pathPattern: `/namespaces/${ns}/events`,
      status: 500,
    });
    await expect(
      recorder.record({ ...target, name: 'failing' }, 'Warning', Reason.RolloutFailed, 'x'),
    ).resolves.toBeUndefined();
    expect(await eventsOf('failing')).toEqual([]);
    expect(lines.join('\n')).toContain('event not recorded');
    expect(lines.join('\n')).toContain('InternalError');
    expect(lines.join('\n')).not.toMatch(/authorization|bearer/i);
  });
});
