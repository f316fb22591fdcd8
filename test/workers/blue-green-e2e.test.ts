import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEvent } from '../kube-emulator/contract.js';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { waitFor } from '../support/wait-for.js';

// BlueGreen end to end: the emulator (Deployments, Services, Jobs), docker-registry pushes with
// notifications, Redis, and the workers in this process.

let stack: CvmStack;

beforeAll(async () => {
  // The reconciler looks for drift every second.
  stack = await startCvmStack({
    reconciler: true,
    env: { CVM_ROLLOUT_RECHECK_MS: '1000', CVM_DRIFT_CHECK_SECONDS: '1' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const COLOR = 'cvm.dev/color';

function service(ns: string, name: string, selector: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { selector, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

/** Namespace `ns` with web-blue (live, 2 replicas), web-green (idle, 0), Services web and web-preview on blue, and a CV. */
async function blueGreenApp(ns: string, cv: Record<string, unknown>) {
  await stack.apply([
    namespace(ns),
    deployment(ns, 'web-blue', 'example.com/old/web:1', {
      app: 'web',
      replicas: 2,
      labels: { [COLOR]: 'blue' },
    }),
    deployment(ns, 'web-green', 'example.com/old/web:0', {
      app: 'web',
      replicas: 0,
      labels: { [COLOR]: 'green' },
    }),
    service(ns, 'web', { app: 'web', [COLOR]: 'blue' }),
    service(ns, 'web-preview', { app: 'web', [COLOR]: 'blue' }),
  ]);
  await stack.apply([
    containerVersion(ns, 'web', {
      imageRepo: stack.repo,
      tag: ns,
      versionPattern: '^sha-[0-9a-f]{7}$',
      selector: { app: 'web' },
      container: 'api',
      pollIntervalSeconds: 0,
      ...cv,
    }),
  ]);
}

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image as string;

async function get(kind: string, ns: string, name: string): Promise<any> {
  return JSON.parse((await stack.kubectl(['get', kind, name, '-n', ns, '-o', 'json'])).stdout);
}

/** What happened in `ns`, in order, as the API server committed it. */
function timeline(ns: string, digest: () => string) {
  const seen: string[] = [];
  const jobEnv: Record<string, string>[] = [];
  const note = (what: string) => {
    if (seen.at(-1) !== what) seen.push(what);
  };
  const off = stack.emulator.store.subscribe((event: StoreEvent) => {
    const o = event.object as any;
    if (o.metadata?.namespace !== ns || event.type === 'DELETED') return;
    const resource = event.resource.split('.')[0];
    if (resource === 'services' && event.type === 'MODIFIED')
      note(`${o.metadata.name}→${o.spec.selector?.[COLOR] ?? o.spec.externalName}`);
    if (resource === 'deployments' && o.metadata.name === 'web-green') {
      const image = o.spec.template.spec.containers[0].image as string;
      if (
        digest() !== '' &&
        image.includes(digest()) &&
        o.spec.replicas === 2 &&
        o.status?.readyReplicas === 2 &&
        o.status?.updatedReplicas === 2
      )
        note('green ready');
      if (o.spec.replicas === 0 && seen.includes('green ready')) note('green scaled down');
    }
    if (resource === 'deployments' && o.metadata.name === 'web-blue' && o.spec.replicas === 0)
      note('blue scaled down');
    if (resource === 'jobs' && event.type === 'ADDED')
      jobEnv.push(
        Object.fromEntries(
          (o.spec.template.spec.containers[0].env ?? []).map((e: any) => [e.name, e.value]),
        ),
      );
    if (resource === 'jobs' && o.status?.succeeded === 1)
      note(`job ${o.metadata.labels?.['cvm.dev/verify-check']} done`);
    if (resource === 'jobs' && o.status?.failed >= 1)
      note(`job ${o.metadata.labels?.['cvm.dev/verify-check']} failed`);
  });
  return { seen, jobEnv, off };
}

describe('BlueGreen with a preview Service and verify checks', () => {
  it('traffic moves only once the new colour is ready and verified; the old colour is scaled down after the delay', async () => {
    let digest = '';
    const t = timeline('bg', () => digest);
    await blueGreenApp('bg', {
      strategy: {
        type: 'BlueGreen',
        blueGreen: {
          activeService: 'web',
          previewService: 'web-preview',
          scaleDownDelaySeconds: 2,
        },
      },
      verify: [
        {
          name: 'smoke',
          command: ['sh', '-c', 'wget -q -O- "$CVM_PREVIEW_URL"'],
          timeoutSeconds: 60,
        },
      ],
    });
    digest = stack.push(['sha-b100001', 'bg']);
    const cv = await stack.rolloutOf('bg', 'web', digest, 60_000);
    t.off();
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-b100001' });
    expect(cv.status.currentDigest).toBe(digest);
    expect(cv.status.rollout).toBeUndefined();
    // Order of what the API server saw: preview, checks, then traffic, then the scale-down.
    expect(t.seen).toEqual([
      'green ready',
      'web-preview→green',
      'job smoke done',
      'web→green',
      'blue scaled down',
    ]);
    const green = await get('deployment', 'bg', 'web-green');
    expect(imageOf(green)).toBe(`${stack.repo}:sha-b100001@${digest}`);
    expect(green.spec.replicas).toBe(2);
    expect((await get('deployment', 'bg', 'web-blue')).spec.replicas).toBe(0);
    expect(imageOf(await get('deployment', 'bg', 'web-blue'))).toBe('example.com/old/web:1');
    // The traffic: the active Service's Endpoints are the green Pods, ready.
    const endpoints = await waitFor(async () => {
      const ep = await get('endpoints', 'bg', 'web');
      const addresses = ep.subsets?.[0]?.addresses ?? [];
      return addresses.length === 2 && !ep.subsets[0].notReadyAddresses ? addresses : undefined;
    }, 'the Endpoints of web to list two ready Pods');
    expect(endpoints.map((a: any) => a.targetRef.name)).toEqual([
      expect.stringMatching(/^web-green-/),
      expect.stringMatching(/^web-green-/),
    ]);
    const history = await stack.history('bg', 'web');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      digest,
      result: 'Succeeded',
      previousImage: 'example.com/old/web:1',
      message: expect.stringContaining('is live on green'),
    });
    const events = JSON.parse(
      (await stack.kubectl(['get', 'events', '-n', 'bg', '-o', 'json'])).stdout,
    ).items.map((e: any) => e.reason);
    expect(events).toEqual(
      expect.arrayContaining(['PreviewSwitched', 'TrafficSwitched', 'ScaledDown']),
    );
    const exposed = await stack.metrics.registry.metrics();
    expect(exposed).toMatch(/cvm_traffic_switches_total\{reason="TrafficSwitched"\} [1-9]/);
    expect(exposed).toMatch(
      /cvm_rollout_steps_total\{strategy="BlueGreen",phase="ScalingDown"\} [1-9]/,
    );
    // The verify Job got the preview and active Services' URLs.
    expect(t.jobEnv).toEqual([
      expect.objectContaining({
        CVM_PREVIEW_URL: 'http://web-preview.bg.svc.cluster.local',
        CVM_ACTIVE_URL: 'http://web.bg.svc.cluster.local',
        CVM_DIGEST: digest,
      }),
    ]);

    // The next version goes to blue, the idle colour now, and traffic moves back to it.
    const second = stack.push(['sha-b100002', 'bg']);
    const next = await stack.rolloutOf('bg', 'web', second, 60_000);
    expect(next.status.lastRollout.result).toBe('Succeeded');
    expect((await get('service', 'bg', 'web')).spec.selector[COLOR]).toBe('blue');
    expect(imageOf(await get('deployment', 'bg', 'web-blue'))).toContain(second);
    expect((await get('deployment', 'bg', 'web-blue')).spec.replicas).toBe(2);
    expect((await get('deployment', 'bg', 'web-green')).spec.replicas).toBe(0);
  }, 120_000);

  it('a failing PrePromotion check leaves the traffic where it was; the digest is remembered', async () => {
    stack.emulator.setNeverReady(['fail-check']);
    await blueGreenApp('bg-pre', {
      strategy: {
        type: 'BlueGreen',
        blueGreen: { activeService: 'web', previewService: 'web-preview' },
      },
      verify: [
        {
          name: 'smoke',
          image: 'example.com/checks/fail-check:1',
          command: ['/bin/false'],
          timeoutSeconds: 60,
        },
      ],
    });
    const digest = stack.push(['sha-b200001', 'bg-pre']);
    const cv = await stack.rolloutOf('bg-pre', 'web', digest, 60_000);
    expect(cv.status.lastRollout).toMatchObject({
      result: 'Failed',
      message: expect.stringContaining('traffic stayed on blue'),
    });
    expect(cv.status.failedDigests).toContain(digest);
    expect((await get('service', 'bg-pre', 'web')).spec.selector[COLOR]).toBe('blue');
    expect((await get('deployment', 'bg-pre', 'web-blue')).spec.replicas).toBe(2);
    expect((await get('deployment', 'bg-pre', 'web-green')).spec.replicas).toBe(0);
    expect(cv.status.conditions.find((c: any) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'VerifyFailed',
    });
  }, 90_000);

  it('a failing PostPromotion check switches the traffic back and scales the new colour down', async () => {
    stack.emulator.setNeverReady(['fail-check']);
    let digest = '';
    const t = timeline('bg-post', () => digest);
    await blueGreenApp('bg-post', {
      strategy: {
        type: 'BlueGreen',
        blueGreen: { activeService: 'web', scaleDownDelaySeconds: 0 },
      },
      verify: [
        {
          name: 'live',
          image: 'example.com/checks/fail-check:2',
          command: ['/bin/false'],
          timeoutSeconds: 60,
          when: 'PostPromotion',
        },
      ],
    });
    digest = stack.push(['sha-b300001', 'bg-post']);
    const cv = await stack.rolloutOf('bg-post', 'web', digest, 60_000);
    t.off();
    expect(cv.status.lastRollout).toMatchObject({
      result: 'RolledBack',
      message: expect.stringContaining('traffic switched back to blue'),
    });
    expect(t.seen).toEqual([
      'green ready',
      'web→green',
      'job live failed',
      'web→blue',
      'green scaled down',
    ]);
    expect(cv.status.failedDigests).toContain(digest);
    expect((await get('service', 'bg-post', 'web')).spec.selector[COLOR]).toBe('blue');
    expect((await get('deployment', 'bg-post', 'web-blue')).spec.replicas).toBe(2);
    expect((await get('deployment', 'bg-post', 'web-green')).spec.replicas).toBe(0);
  }, 90_000);

  it('autoPromote false waits in Paused until a person promotes through cvm.dev/request', async () => {
    await blueGreenApp('bg-manual', {
      strategy: {
        type: 'BlueGreen',
        blueGreen: { activeService: 'web', autoPromote: false, scaleDownDelaySeconds: 0 },
      },
    });
    const digest = stack.push(['sha-b400001', 'bg-manual']);
    const paused = await waitFor(
      async () => {
        const cv = await stack.containerVersion('bg-manual', 'web');
        return cv.status?.rollout?.phase === 'Paused' ? cv : undefined;
      },
      'the rollout to pause',
      { timeoutMs: 30_000 },
    );
    expect(paused.status.rollout).toMatchObject({
      strategy: 'BlueGreen',
      step: 2,
      steps: 4,
      blueGreen: { liveColor: 'blue', newColor: 'green' },
    });
    // Still paused a moment later, the traffic on blue.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await stack.containerVersion('bg-manual', 'web')).status.rollout.phase).toBe('Paused');
    expect((await get('service', 'bg-manual', 'web')).spec.selector[COLOR]).toBe('blue');
    // An unknown request is refused visibly; promote then switches.
    await stack.kubectl(['annotate', 'cv', 'web', '-n', 'bg-manual', 'cvm.dev/request=launch']);
    await waitFor(
      async () =>
        (await stack.containerVersion('bg-manual', 'web')).status?.lastRequest?.result ===
        'Refused',
      'the unknown request to be refused',
    );
    await stack.kubectl([
      'annotate',
      'cv',
      'web',
      '-n',
      'bg-manual',
      '--overwrite',
      'cvm.dev/request=promote:1',
    ]);
    const cv = await stack.rolloutOf('bg-manual', 'web', digest, 30_000);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    expect(cv.status.lastRequest).toMatchObject({
      value: 'promote:1',
      action: 'promote',
      result: 'Applied',
    });
    expect((await get('service', 'bg-manual', 'web')).spec.selector[COLOR]).toBe('green');
  }, 90_000);
});

describe('drift under BlueGreen', () => {
  it('only the live colour is held at the current digest; the idle colour keeps its older version', async () => {
    await blueGreenApp('bg-drift', {
      strategy: {
        type: 'BlueGreen',
        blueGreen: { activeService: 'web', scaleDownDelaySeconds: 0 },
      },
    });
    const digest = stack.push(['sha-b700001', 'bg-drift']);
    const done = await stack.rolloutOf('bg-drift', 'web', digest, 60_000);
    expect(done.status.lastRollout.result).toBe('Succeeded');
    const live = `${stack.repo}:sha-b700001@${digest}`;
    // Several drift checks pass: blue (idle, at 0, the older image) is not drift.
    await new Promise((r) => setTimeout(r, 2500));
    expect(imageOf(await get('deployment', 'bg-drift', 'web-blue'))).toBe('example.com/old/web:1');
    expect((await stack.history('bg-drift', 'web')).length).toBe(1);
    // Someone changes the live colour by hand: it is reverted, and only it.
    await stack.kubectl([
      'set',
      'image',
      'deployment/web-green',
      'api=example.com/hand/web:9',
      '-n',
      'bg-drift',
    ]);
    await waitFor(
      async () => imageOf(await get('deployment', 'bg-drift', 'web-green')) === live,
      'the live colour to be reverted',
      { timeoutMs: 30_000 },
    );
    const history = await waitFor(async () => {
      const entries = await stack.history('bg-drift', 'web');
      return entries.length === 2 ? entries : undefined;
    }, 'the revert to be recorded');
    expect(history[0]).toMatchObject({
      trigger: 'drift',
      result: 'Succeeded',
      workloads: ['Deployment/web-green'],
    });
    expect(imageOf(await get('deployment', 'bg-drift', 'web-blue'))).toBe('example.com/old/web:1');
    expect((await get('service', 'bg-drift', 'web')).spec.selector[COLOR]).toBe('green');
  }, 90_000);
});

describe('BlueGreen setups that cannot work', () => {
  it('a colour label that selects nothing gets Ready=False naming the field, and nothing moves', async () => {
    await stack.apply([
      namespace('bg-bad'),
      deployment('bg-bad', 'web', 'example.com/old/web:1', { app: 'web' }),
      service('bg-bad', 'web', { app: 'web', [COLOR]: 'blue' }),
      containerVersion('bg-bad', 'web', {
        imageRepo: stack.repo,
        tag: 'bg-bad',
        selector: { app: 'web' },
        container: 'api',
        pollIntervalSeconds: 0,
        strategy: { type: 'BlueGreen', blueGreen: { activeService: 'web' } },
      }),
    ]);
    stack.push(['sha-b500001', 'bg-bad']);
    const cv = await waitFor(async () => {
      const got = await stack.containerVersion('bg-bad', 'web');
      return got.status?.conditions?.some((c: any) => c.reason === 'InvalidSpec') ? got : undefined;
    }, 'the CV to be refused');
    expect(cv.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
      message: 'strategy.blueGreen.colorLabel: deployment/web has no label cvm.dev/color',
    });
    expect(cv.status.rollout).toBeUndefined();
    expect(imageOf(await get('deployment', 'bg-bad', 'web'))).toBe('example.com/old/web:1');
  }, 60_000);
});

describe('BlueGreen across two namespaces (the namespace variant)', () => {
  it('an ExternalName Service in the CV namespace is switched to the new colour namespace', async () => {
    const colour = (ns: string, replicas: number) => [
      namespace(ns),
      deployment(ns, 'web', 'example.com/old/web:1', { app: 'web', replicas }),
      service(ns, 'web', { app: 'web' }),
    ];
    await stack.apply([...colour('shop-blue', 2), ...colour('shop-green', 0), namespace('shop')]);
    await stack.apply([
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { type: 'ExternalName', externalName: 'web.shop-blue.svc.cluster.local' },
      },
      containerVersion('shop', 'web', {
        imageRepo: stack.repo,
        tag: 'shop',
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'web' },
        container: 'api',
        pollIntervalSeconds: 0,
        strategy: {
          type: 'BlueGreen',
          blueGreen: {
            activeService: 'web',
            namespaces: ['shop-blue', 'shop-green'],
            scaleDownDelaySeconds: 0,
          },
        },
      }),
    ]);
    const digest = stack.push(['sha-b600001', 'shop']);
    const cv = await stack.rolloutOf('shop', 'web', digest, 60_000);
    expect(cv.status.lastRollout).toMatchObject({
      result: 'Succeeded',
      message: expect.stringContaining('is live on shop-green'),
    });
    expect((await get('service', 'shop', 'web')).spec.externalName).toBe(
      'web.shop-green.svc.cluster.local',
    );
    const green = await get('deployment', 'shop-green', 'web');
    expect(imageOf(green)).toBe(`${stack.repo}:sha-b600001@${digest}`);
    expect(green.spec.replicas).toBe(2);
    expect((await get('deployment', 'shop-blue', 'web')).spec.replicas).toBe(0);
    const history = await stack.history('shop', 'web');
    expect(history[0]).toMatchObject({
      result: 'Succeeded',
      workloads: ['Deployment/shop-green/web', 'Deployment/shop-blue/web'],
    });
  }, 90_000);
});
