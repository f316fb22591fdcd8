import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../contract.js';
import { customPrinter } from './custom-printer.js';
import { formatEndpoints } from './endpoints-printer.js';
import { eventPrinter } from './event-printer.js';
import { humanDuration } from './human-duration.js';
import { evaluateJsonPath, parseJsonPath } from './json-path.js';
import { selectorString } from './label-format.js';
import { podPrinter } from './pod-printer.js';
import { deploymentPrinter, jobPrinter } from './workload-printers.js';

const now = Date.parse('2026-11-27T21:00:00Z');
const fiveMinutesAgo = '2026-11-27T20:55:00Z';

/** A capture with every `<placeholder>` time replaced by five minutes before `now`. */
function capture(file: string): unknown {
  const text = readFileSync(new URL(`../controllers/fixtures/${file}`, import.meta.url), 'utf8');
  return JSON.parse(
    text.replace(
      /"<(creationTimestamp|eventTime|firstTimestamp|lastTimestamp|lastTransitionTime|lastUpdateTime|startedAt|startTime)>"/g,
      `"${fiveMinutesAgo}"`,
    ),
  );
}

describe('humanDuration (apimachinery duration.HumanDuration)', () => {
  it.each([
    [-3000, '<invalid>'],
    [-500, '0s'],
    [59_000, '59s'],
    [119_000, '119s'],
    [200_000, '3m20s'],
    [300_000, '5m'],
    [15 * 60_000, '15m'],
    [179 * 60_000, '179m'],
    [5 * 3_600_000 + 600_000, '5h10m'],
    [30 * 3_600_000, '30h'],
    [51 * 3_600_000, '2d3h'],
    [400 * 86_400_000, '400d'],
    [760 * 86_400_000, '2y30d'],
    [3650 * 86_400_000, '10y'],
  ])('%d ms reads %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('selectorString (LabelSelectorAsSelector(...).String())', () => {
  it('sorts requirements by key and writes each operator as kubectl shows it', () => {
    expect(
      selectorString({
        matchLabels: { tier: 'web', app: 'shop' },
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['b', 'a'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'owner', operator: 'Exists' },
        ],
      }),
    ).toBe('app=shop,!canary,env notin (dev),owner,tier=web,zone in (a,b)');
    expect(selectorString(undefined)).toBe('');
  });
});

describe('CRD printer-column JSONPath', () => {
  const cv = {
    metadata: { labels: { 'app.kubernetes.io/name': 'api' } },
    status: {
      conditions: [
        { type: 'Progressing', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      failedDigests: ['sha256:a', 'sha256:b'],
    },
  };
  it.each([
    ['.status.conditions[?(@.type=="Ready")].status', ['True']],
    [".status.conditions[?(@.type!='Ready')].type", ['Progressing']],
    ['.status.conditions[1].type', ['Ready']],
    ['.status.conditions[-1].type', ['Ready']],
    ['.status.failedDigests[*]', ['sha256:a', 'sha256:b']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['api']],
    [".metadata.labels['app.kubernetes.io/name']", ['api']],
    ['.spec.missing', []],
  ])('%s finds %j', (path, values) => {
    expect(evaluateJsonPath(parseJsonPath(path), cv)).toEqual(values);
  });

  it('types cells as the CRD table convertor does: date as age, absent as null', () => {
    const printer = customPrinter([
      { name: 'Tag', type: 'string', jsonPath: '.spec.tag' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]);
    expect(printer.columns.map((c) => c.name)).toEqual(['Name', 'Tag', 'Replicas', 'Ready', 'Age']);
    const object = {
      apiVersion: 'cvm.dev/v1',
      kind: 'ContainerVersion',
      metadata: { name: 'api', creationTimestamp: fiveMinutesAgo },
      spec: { tag: 'prod', replicas: 'three' },
    } as KubeObject;
    expect(printer.cells(object, now)).toEqual(['api', 'prod', null, null, '5m']);
    expect(customPrinter(undefined).columns.map((c) => [c.name, c.type])).toEqual([
      ['Name', 'string'],
      ['Age', 'date'],
    ]);
  });
});

describe('built-in printers on the reference captures', () => {
  it('the rolled-out Deployment reads 3/3 ready, 3 up to date, 3 available', () => {
    const final = (capture('deployment-rollout.json') as { final: KubeObject }).final;
    expect(deploymentPrinter.cells(final, now)).toEqual([
      'web',
      '3/3',
      3,
      3,
      '5m',
      'main',
      'nginx:1.26',
      'app=web',
    ]);
  });

  it('its Pods read 1/1 Running with their IP', () => {
    const pods = (capture('deployment-pods.json') as { items: KubeObject[] }).items;
    const [first] = pods;
    expect(first && podPrinter.cells(first, now)).toEqual([
      first?.metadata.name,
      '1/1',
      'Running',
      '0',
      '5m',
      '10.244.0.175',
      first?.spec.nodeName,
      '<none>',
      '<none>',
    ]);
  });

  it('core/v1 and events.k8s.io/v1 Events print the same rows', () => {
    const core = (capture('events-core-v1.json') as { items: KubeObject[] }).items;
    const modern = (capture('events-events-k8s-io-v1.json') as { items: KubeObject[] }).items;
    expect(core.length).toBeGreaterThan(0);
    const rows = (items: KubeObject[]): unknown[] => items.map((e) => eventPrinter.cells(e, now));
    // The events.k8s.io capture kept real times where the core one has placeholders: compare
    // everything but LAST SEEN and FIRST SEEN.
    const timeless = (items: KubeObject[]): unknown[] =>
      items.map((e) => eventPrinter.cells(e, now).filter((_, i) => i !== 0 && i !== 7));
    expect(timeless(modern)).toEqual(timeless(core));
    expect(rows(core)[0]).toEqual([
      '5m',
      'Normal',
      'Scheduled',
      'pod/agent-78gtx',
      '',
      'default-scheduler, default-scheduler-vm',
      'Successfully assigned ref-8896/agent-78gtx to fake-node-1',
      '5m',
      1,
      'agent-78gtx.18ec014f19fa10a2',
    ]);
  });
});

describe('pod and job status cells', () => {
  const pod = (
    status: Record<string, unknown>,
    spec: Record<string, unknown> = {},
  ): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', creationTimestamp: fiveMinutesAgo },
    spec: { containers: [{ name: 'a' }, { name: 'b' }], ...spec },
    status,
  });
  it.each([
    [{ phase: 'Pending' }, ['0/2', 'Pending', '0']],
    [
      {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 2, state: { running: {} } },
          {
            name: 'b',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
          },
        ],
      },
      ['1/2', 'CrashLoopBackOff', '2'],
    ],
    [
      {
        phase: 'Failed',
        containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 3 } } }],
      },
      ['0/2', 'ExitCode:3', '0'],
    ],
    [
      {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'a',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, finishedAt: '2026-11-27T20:59:35Z' } },
          },
          {
            name: 'b',
            ready: true,
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { exitCode: 1, finishedAt: fiveMinutesAgo } },
          },
        ],
      },
      ['1/2', 'CrashLoopBackOff', '4 (25s ago)'],
    ],
    [
      {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'init', state: { waiting: { reason: 'PodInitializing' } } },
        ],
      },
      ['0/2', 'Init:0/1', '0'],
    ],
  ])('%j reads %j', (status: Record<string, unknown>, cells) => {
    const spec = status.initContainerStatuses ? { initContainers: [{ name: 'init' }] } : {};
    expect(podPrinter.cells(pod(status, spec), now).slice(1, 4)).toEqual(cells);
  });

  it('a Job shows Complete, its completions and how long it ran', () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'verify', creationTimestamp: fiveMinutesAgo },
      spec: {
        completions: 1,
        template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
      status: {
        succeeded: 1,
        startTime: fiveMinutesAgo,
        completionTime: '2026-11-27T20:55:07Z',
        conditions: [{ type: 'Complete', status: 'True' }],
      },
    } as KubeObject;
    expect(jobPrinter.cells(job, now).slice(0, 5)).toEqual([
      'verify',
      'Complete',
      '1/1',
      '7s',
      '5m',
    ]);
  });
});

describe('formatEndpoints (the ENDPOINTS cell)', () => {
  const endpoints = (subsets?: unknown[]): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web' },
    ...(subsets ? { subsets } : {}),
  });
  const addresses = (...ips: string[]) => ips.map((ip) => ({ ip }));
  it.each([
    [undefined, '<none>'],
    [[{ notReadyAddresses: addresses('10.0.0.1'), ports: [{ port: 80 }] }], ''],
    [
      [{ addresses: addresses('10.0.0.1', '10.0.0.2'), ports: [{ port: 8080 }] }],
      '10.0.0.1:8080,10.0.0.2:8080',
    ],
    [[{ addresses: addresses('10.0.0.1') }], '10.0.0.1'],
    [[{ addresses: addresses('fd00::1'), ports: [{ port: 80 }] }], '[fd00::1]:80'],
    [
      [{ addresses: addresses('10.0.0.1', '10.0.0.2'), ports: [{ port: 80 }, { port: 443 }] }],
      '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...',
    ],
  ])('%j reads %j', (subsets, cell) => {
    expect(formatEndpoints(endpoints(subsets))).toBe(cell);
  });
});
