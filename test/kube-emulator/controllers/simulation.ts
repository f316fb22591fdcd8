import { readFileSync } from 'node:fs';
import type { KubeObject, StoreEvent } from '../contract.js';
import { MemoryStore } from '../store.js';
import { startControllers } from './index.js';
import { ManualClock } from './manual-clock.js';

/** A MemoryStore with the controllers on a {@link ManualClock}, for deterministic tests. */
export function simulate(
  options: {
    podReadySeconds?: number;
    nodes?: string[];
    neverReady?: string;
    /** Text in crash-looping images, or a predicate (to change it during a test). */
    crashing?: string | ((image: string) => boolean);
    crashAfterSeconds?: number;
  } = {},
) {
  const clock = new ManualClock();
  const store = new MemoryStore({ now: () => clock.now() });
  const events: StoreEvent[] = [];
  store.subscribe((e) => events.push(e));
  const neverReadyText = options.neverReady ?? 'never-ready';
  const controllers = startControllers({
    store,
    clock,
    nodes: options.nodes ?? ['fake-node-1'],
    podReadySeconds: options.podReadySeconds ?? 1,
    neverReady: (image) => image.includes(neverReadyText),
    crashing: (image) =>
      typeof options.crashing === 'function'
        ? options.crashing(image)
        : options.crashing !== undefined && image.includes(options.crashing),
    ...(options.crashAfterSeconds !== undefined
      ? { crashAfterSeconds: options.crashAfterSeconds }
      : {}),
  });
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ref' } });
  return { clock, store, events, controllers };
}

/** A captured object's spec and labels as a fresh object in namespace `ref`. */
export function fromCapture(fixture: string): { capture: Capture; object: KubeObject } {
  const capture = JSON.parse(
    readFileSync(new URL(`./fixtures/${fixture}`, import.meta.url), 'utf8'),
  ) as Capture;
  const created = capture.created;
  return {
    capture,
    object: {
      apiVersion: created.apiVersion,
      kind: created.kind,
      metadata: { name: created.metadata.name, namespace: 'ref', labels: created.metadata.labels },
      spec: structuredClone(created.spec),
    },
  };
}

export interface CapturedStep {
  type: string;
  generation?: number;
  annotations: Record<string, string>;
  status: Record<string, unknown>;
}

export interface Capture {
  created: KubeObject;
  final: KubeObject;
  sequence: CapturedStep[];
}

/** The watch events of one object, in the capture's shape. */
export function stepsOf(events: StoreEvent[], resource: string, name: string): CapturedStep[] {
  return events
    .filter((e) => e.resource === resource && e.object.metadata.name === name)
    .map((e) => ({
      type: e.type,
      generation: e.object.metadata.generation,
      annotations: e.object.metadata.annotations ?? {},
      status: (e.object.status ?? {}) as Record<string, unknown>,
    }));
}

/**
 * Placeholders for what cannot match a real cluster: times become `<time>`, and generated names
 * (`web-67cb5948d5`, `db-69c64cf476`) become `<name#1>`, `<name#2>` in order of appearance.
 */
export function normalize(steps: CapturedStep[], prefix: string): unknown[] {
  const names = new Map<string, string>();
  const text = JSON.stringify(steps).replace(
    new RegExp(`${prefix}-[bcdfghjklmnpqrstvwxz2456789]{8,10}`, 'g'),
    (m) => {
      if (!names.has(m)) names.set(m, `<name#${names.size + 1}>`);
      return names.get(m) ?? m;
    },
  );
  return (JSON.parse(text) as CapturedStep[]).map((s) => ({
    ...s,
    status: JSON.parse(
      JSON.stringify(s.status).replace(/"(last\w*Time)":"[^"]*"/g, '"$1":"<time>"'),
    ) as unknown,
  }));
}

/**
 * Drops MODIFIED events that changed only annotations: the store's /status keeps metadata, so the
 * revision annotation lands in its own event just before the status write that a real API server
 * takes in one (see the README's fidelity notes).
 */
export function withoutAnnotationOnlySteps(steps: CapturedStep[]): CapturedStep[] {
  return steps.filter((step, i) => {
    const previous = steps[i - 1];
    if (!previous || step.type !== 'MODIFIED') return true;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    return !(
      same(previous.status, step.status) &&
      previous.generation === step.generation &&
      !same(previous.annotations, step.annotations)
    );
  });
}
