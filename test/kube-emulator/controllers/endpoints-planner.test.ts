import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../contract.js';
import {
  headlessLabel,
  lastChangeTriggerTimeAnnotation,
  planEndpointsSync,
} from './endpoints-planner.js';
import { desiredSubsets, findPort, managesEndpoints, type Service } from './endpoints-subsets.js';
import { trackTriggerTime } from './endpoints-trigger-time.js';

const created = '2026-11-27T20:00:00Z';

function service(spec: Service['spec'] = {}, labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'ref', uid: 'svc-uid', creationTimestamp: created, labels },
    spec: {
      clusterIP: '10.96.0.10',
      selector: { app: 'web' },
      ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...spec,
    },
  };
}

interface PodOptions {
  ready?: boolean;
  labels?: Record<string, string>;
  phase?: string;
  deleting?: boolean;
  ip?: string | null;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readySince?: string;
}

function pod(name: string, ip: string, options: PodOptions = {}): KubeObject {
  const podIP = options.ip === null ? undefined : (options.ip ?? ip);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ref',
      uid: `uid-${name}`,
      labels: options.labels ?? { app: 'web' },
      ...(options.deleting ? { deletionTimestamp: created } : {}),
    },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'main', image: 'nginx', ports: options.ports ?? [] }],
    },
    status: {
      phase: options.phase ?? 'Running',
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      conditions: [
        {
          type: 'Ready',
          status: (options.ready ?? true) ? 'True' : 'False',
          lastTransitionTime: options.readySince ?? '2026-11-27T20:00:05Z',
        },
      ],
    },
  };
}

const address = (name: string, ip: string) => ({
  ip,
  nodeName: 'node-1',
  targetRef: { kind: 'Pod', namespace: 'ref', name, uid: `uid-${name}` },
});

describe('desiredSubsets (endpoints.RepackSubsets of the matching Pods)', () => {
  it('puts Ready Pods in addresses and the others in notReadyAddresses, sorted by IP', () => {
    const pods = [
      pod('c', '10.244.0.9'),
      pod('a', '10.244.0.10'),
      pod('b', '10.244.0.3', { ready: false }),
    ];
    expect(desiredSubsets(service(), pods)).toEqual([
      {
        addresses: [address('a', '10.244.0.10'), address('c', '10.244.0.9')],
        notReadyAddresses: [address('b', '10.244.0.3')],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it.each([
    ['being deleted', { deleting: true }],
    ['without an IP', { ip: null }],
    ['Succeeded', { phase: 'Succeeded' }],
    ['Failed', { phase: 'Failed' }],
  ] as [string, PodOptions][])('leaves out a Pod %s', (_, options) => {
    const subsets = desiredSubsets(service(), [
      pod('a', '10.244.0.2'),
      pod('b', '10.244.0.3', options),
    ]);
    expect(subsets).toEqual([
      { addresses: [address('a', '10.244.0.2')], ports: [{ port: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('resolves a named targetPort per Pod: Pods with different numbers get their own subset', () => {
    const svc = service({
      ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }],
    });
    const pods = [
      pod('a', '10.244.0.2', { ports: [{ name: 'web', containerPort: 8080 }] }),
      pod('b', '10.244.0.3', { ports: [{ name: 'web', containerPort: 9090, protocol: 'TCP' }] }),
      pod('c', '10.244.0.4', { ports: [{ name: 'web', containerPort: 8080, protocol: 'UDP' }] }),
    ];
    expect(desiredSubsets(svc, pods)).toEqual([
      {
        addresses: [address('a', '10.244.0.2')],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [address('b', '10.244.0.3')],
        ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
      },
    ]);
  });

  it('keeps ports offered by the same addresses in one subset, in the Service order', () => {
    const svc = service({
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9100, protocol: 'TCP' },
      ],
    });
    expect(desiredSubsets(svc, [pod('a', '10.244.0.2')])).toEqual([
      {
        addresses: [address('a', '10.244.0.2')],
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'metrics', port: 9100, protocol: 'TCP' },
        ],
      },
    ]);
  });

  it('publishes not-ready Pods as addresses with publishNotReadyAddresses', () => {
    const svc = service({ publishNotReadyAddresses: true });
    expect(desiredSubsets(svc, [pod('a', '10.244.0.2', { ready: false })])).toEqual([
      { addresses: [address('a', '10.244.0.2')], ports: [{ port: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('gives a headless Service without ports its addresses without ports', () => {
    const svc = service({ clusterIP: 'None', ports: [] });
    expect(desiredSubsets(svc, [pod('a', '10.244.0.2')])).toEqual([
      { addresses: [address('a', '10.244.0.2')] },
    ]);
  });
});

describe('findPort (podutil.FindPort)', () => {
  const withPorts = pod('a', '10.244.0.2', { ports: [{ name: 'web', containerPort: 8080 }] });
  it.each([
    [{ port: 80, targetPort: 9000 }, 9000],
    [{ port: 80 }, 80],
    [{ port: 80, targetPort: 'web' }, 8080],
    [{ port: 80, targetPort: 'web', protocol: 'UDP' }, undefined],
    [{ port: 80, targetPort: 'admin' }, undefined],
  ])('%j on a Pod with port web=8080 is %s', (servicePort, expected) => {
    expect(findPort(withPorts, servicePort)).toBe(expected);
  });
});

describe('managesEndpoints', () => {
  it.each([
    [{ selector: { app: 'web' } }, true],
    [{ selector: {} }, false],
    [{ selector: undefined }, false],
    [{ selector: { app: 'web' }, type: 'ExternalName' }, false],
  ] as [Service['spec'], boolean][])('%j: %s', (spec, expected) => {
    expect(managesEndpoints(service(spec))).toBe(expected);
  });
});

describe('planEndpointsSync', () => {
  const triggerMs = Date.parse('2026-11-27T20:00:05Z');

  it('creates an Endpoints without subsets when no Pod matches, with the Service labels', () => {
    const plan = planEndpointsSync(
      service({}, { team: 'a' }),
      [pod('other', '10.244.0.2', { labels: { app: 'other' } })],
      undefined,
      Date.parse(created),
    );
    expect(plan).toEqual({
      action: 'create',
      endpoints: {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: {
          name: 'web',
          namespace: 'ref',
          labels: { team: 'a' },
          annotations: { [lastChangeTriggerTimeAnnotation]: created },
        },
      },
    });
  });

  it('writes nothing when subsets and labels are as desired (targetRef resourceVersions aside)', () => {
    const pods = [pod('a', '10.244.0.2')];
    const subsets = desiredSubsets(service(), pods);
    const first = subsets[0];
    const withVersion = first?.addresses?.map((a) => ({
      ...a,
      targetRef: { ...a.targetRef, resourceVersion: '42' },
    }));
    const current = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'ref', resourceVersion: '7' },
      subsets: [{ ...first, addresses: withVersion }],
    };
    expect(planEndpointsSync(service(), pods, current, triggerMs)).toEqual({ action: 'none' });
  });

  it('updates when the labels changed, keeping other annotations and the resourceVersion', () => {
    const current = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: 'web',
        namespace: 'ref',
        resourceVersion: '7',
        annotations: { note: 'kept', [lastChangeTriggerTimeAnnotation]: created },
      },
    };
    const plan = planEndpointsSync(service({}, { team: 'b' }), [], current, undefined);
    expect(plan).toEqual({
      action: 'update',
      endpoints: {
        ...current,
        metadata: {
          name: 'web',
          namespace: 'ref',
          resourceVersion: '7',
          labels: { team: 'b' },
          annotations: { note: 'kept' },
        },
      },
    });
  });

  it('drops the subsets of an Endpoints whose Pods are gone, and sets the trigger time', () => {
    const current = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'ref', resourceVersion: '7' },
      subsets: desiredSubsets(service(), [pod('a', '10.244.0.2')]),
    };
    const plan = planEndpointsSync(service(), [], current, triggerMs);
    expect(plan.action).toBe('update');
    const endpoints = plan.action === 'update' ? plan.endpoints : undefined;
    expect(endpoints).not.toHaveProperty('subsets');
    expect(endpoints?.metadata.annotations).toEqual({
      [lastChangeTriggerTimeAnnotation]: '2026-11-27T20:00:05Z',
    });
  });

  it('labels the Endpoints of a headless Service', () => {
    const plan = planEndpointsSync(service({ clusterIP: 'None' }), [], undefined, undefined);
    const labels = plan.action === 'create' ? plan.endpoints.metadata.labels : undefined;
    expect(labels).toEqual({ [headlessLabel]: '' });
  });
});

describe('trackTriggerTime (TriggerTimeTracker)', () => {
  it('is the creationTimestamp for a new Service, then the earliest changed Ready transition', () => {
    const svc = service();
    const first = trackTriggerTime(undefined, svc, [pod('a', '10.244.0.2')]);
    expect(first.timeMs).toBe(Date.parse(created));
    const same = trackTriggerTime(first.state, svc, [pod('a', '10.244.0.2')]);
    expect(same.timeMs).toBeUndefined();
    const later = '2026-11-27T20:01:00Z';
    const flipped = trackTriggerTime(same.state, svc, [
      pod('a', '10.244.0.2', { ready: false, readySince: later }),
      pod('b', '10.244.0.3', { readySince: '2026-11-27T20:02:00Z' }),
    ]);
    expect(flipped.timeMs).toBe(Date.parse(later));
    expect(trackTriggerTime(flipped.state, svc, []).timeMs).toBeUndefined();
  });
});
