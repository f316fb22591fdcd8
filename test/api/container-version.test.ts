import { describe, expect, it } from 'vitest';
import { validateSpec, validateStatus } from '../../src/api/validate.js';

const minimal = {
  imageRepo: '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api',
  tag: 'prod',
  selector: { app: 'api' },
  container: 'api',
};

describe('ContainerVersion spec', () => {
  it('a minimal spec gets every default of DESIGN §2', () => {
    const result = validateSpec(minimal);
    expect(result).toEqual({
      ok: true,
      value: {
        ...minimal,
        pollIntervalSeconds: 300,
        strategy: { type: 'Rolling' },
        verify: [],
        policy: { allowRegression: false, minImageAgeSeconds: 0 },
        rollback: { enabled: true, progressDeadlineSeconds: 600 },
        history: { enabled: true, limit: 50 },
        suspend: false,
      },
    });
  });

  it('a full spec keeps every value it was given', () => {
    const full = {
      ...minimal,
      versionPattern: '^[0-9a-f]{7,40}$',
      pollIntervalSeconds: 0,
      strategy: {
        type: 'BlueGreen',
        blueGreen: {
          activeService: 'api',
          previewService: 'api-preview',
          colorLabel: 'example.com/colour',
          autoPromote: false,
          scaleDown: false,
          scaleDownDelaySeconds: 5,
        },
      },
      verify: [
        {
          name: 'smoke',
          command: ['curl', '-f', 'http://api-preview/healthz'],
          timeoutSeconds: 60,
          when: 'PostPromotion',
        },
      ],
      policy: { allowRegression: true, maxSeverity: 'HIGH', minImageAgeSeconds: 120 },
      rollback: { enabled: false, progressDeadlineSeconds: 30 },
      history: { enabled: false, limit: 5 },
      suspend: true,
    };
    const result = validateSpec(full);
    expect(result.ok && result.value).toEqual(full);
  });

  it('a Canary spec keeps its steps and metrics, with their defaults', () => {
    const result = validateSpec({
      ...minimal,
      strategy: {
        type: 'Canary',
        canary: {
          steps: [{ setWeight: 20 }, { pause: {} }, { analysis: { metrics: ['errors'] } }],
          analysis: {
            maxRestarts: 1,
            metrics: [
              {
                name: 'errors',
                prometheus: { address: 'http://prometheus:9090', query: 'sum(rate(x[1m]))' },
                successCondition: 'result < 0.01',
              },
            ],
          },
        },
      },
    });
    expect(result.ok && result.value.strategy.canary).toEqual({
      trackLabel: 'cvm.dev/track',
      replicasPercent: 10,
      judgeSeconds: 60,
      steps: [{ setWeight: 20 }, { pause: {} }, { analysis: { metrics: ['errors'] } }],
      analysis: {
        maxRestarts: 1,
        metrics: [
          {
            name: 'errors',
            prometheus: {
              address: 'http://prometheus:9090',
              query: 'sum(rate(x[1m]))',
              timeoutSeconds: 10,
            },
            successCondition: 'result < 0.01',
            intervalSeconds: 30,
            count: 1,
            failureLimit: 0,
          },
        ],
      },
    });
  });

  const canary = (c: object) => ({ ...minimal, strategy: { type: 'Canary', canary: c } });
  it.each([
    [
      'weights that do not increase',
      canary({ steps: [{ setWeight: 50 }, { pause: {} }, { setWeight: 20 }] }),
      'spec.strategy.canary.steps[2].setWeight: weights must increase: 20 after 50',
    ],
    [
      'a step with two actions',
      canary({ steps: [{ setWeight: 50, pause: {} }] }),
      'spec.strategy.canary.steps[0]: each step has exactly one of setWeight, pause, analysis',
    ],
    [
      'an analysis step naming an unknown metric',
      canary({ steps: [{ analysis: { metrics: ['latency'] } }] }),
      'spec.strategy.canary.steps[0].analysis.metrics[0]: no metric latency in strategy.canary.analysis.metrics',
    ],
    [
      'a Prometheus address that is no URL',
      canary({
        analysis: {
          metrics: [
            {
              name: 'errors',
              prometheus: { address: 'prometheus:9090', query: 'up' },
              successCondition: 'result == 1',
            },
          ],
        },
      }),
      'spec.strategy.canary.analysis.metrics[0].prometheus.address: address must be an http(s) URL of Prometheus',
    ],
    [
      'BlueGreen namespaces that are the same',
      {
        ...minimal,
        strategy: {
          type: 'BlueGreen',
          blueGreen: { activeService: 'web', namespaces: ['a', 'a'] },
        },
      },
      'spec.strategy.blueGreen.namespaces: the two namespaces must differ',
    ],
  ])('%s: refused, naming the field', (_name, input, message) => {
    const result = validateSpec(input);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
  });

  it.each([
    ['imageRepo missing', { ...minimal, imageRepo: undefined }, 'spec.imageRepo: required'],
    [
      'imageRepo with a tag',
      { ...minimal, imageRepo: 'ghcr.io/acme/api:prod' },
      'spec.imageRepo: imageRepo must be a repository without tag or digest',
    ],
    [
      'imageRepo upper-case',
      { ...minimal, imageRepo: 'ghcr.io/Acme/api' },
      'spec.imageRepo: imageRepo must be a repository without tag or digest',
    ],
    ['tag with a slash', { ...minimal, tag: 'release/1' }, 'spec.tag: tag must be a Docker tag'],
    ['tag too long', { ...minimal, tag: 'a'.repeat(129) }, 'spec.tag: tag must be a Docker tag'],
    [
      'versionPattern not a regex',
      { ...minimal, versionPattern: '([a-f' },
      'spec.versionPattern: versionPattern must be a valid regular expression',
    ],
    [
      'negative poll interval',
      { ...minimal, pollIntervalSeconds: -1 },
      'spec.pollIntervalSeconds: Too small',
    ],
    [
      'fractional poll interval',
      { ...minimal, pollIntervalSeconds: 1.5 },
      'spec.pollIntervalSeconds: Invalid input: expected int',
    ],
    [
      'empty selector',
      { ...minimal, selector: {} },
      'spec.selector: selector must name at least one label',
    ],
    [
      'selector value not a label value',
      { ...minimal, selector: { app: 'a b' } },
      'spec.selector.app: selector values must be label values',
    ],
    [
      'container not a DNS label',
      { ...minimal, container: 'API_1' },
      'spec.container: container must be a DNS-1123 label',
    ],
    [
      'unknown strategy',
      { ...minimal, strategy: { type: 'Shadow' } },
      'spec.strategy.type: Invalid option',
    ],
    [
      'BlueGreen without services',
      { ...minimal, strategy: { type: 'BlueGreen' } },
      'spec.strategy.blueGreen: strategy.blueGreen is required when strategy.type is BlueGreen',
    ],
    [
      'verify check without command',
      { ...minimal, verify: [{ name: 'smoke' }] },
      'spec.verify[0].command: required',
    ],
    [
      'unknown severity',
      { ...minimal, policy: { maxSeverity: 'SEVERE' } },
      'spec.policy.maxSeverity: Invalid option',
    ],
    ['history limit 0', { ...minimal, history: { limit: 0 } }, 'spec.history.limit: Too small'],
    [
      'suspend as a string',
      { ...minimal, suspend: 'yes' },
      'spec.suspend: Invalid input: expected boolean',
    ],
  ])('rejects %s with a message naming the field', (_name, spec, expected) => {
    const result = validateSpec(spec);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(expected);
  });

  it('reports every bad field at once', () => {
    const result = validateSpec({ tag: '', selector: {}, container: 'x' });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map((e) => e.field)).toEqual([
        'spec.imageRepo',
        'spec.tag',
        'spec.selector',
      ]);
  });

  it('a spec that is not an object is rejected, not thrown', () => {
    expect(validateSpec(null)).toMatchObject({
      ok: false,
      message: 'spec: Invalid input: expected object, received null',
    });
  });
});

describe('ContainerVersion status', () => {
  it('accepts the status cvm writes', () => {
    const status = {
      observedGeneration: 3,
      currentVersion: 'a1b2c3d',
      currentDigest: `sha256:${'a'.repeat(64)}`,
      currentImage: `ghcr.io/acme/api:a1b2c3d@sha256:${'a'.repeat(64)}`,
      lastEvent: {
        source: 'ghcr',
        digest: `sha256:${'a'.repeat(64)}`,
        receivedAt: '2026-11-27T10:00:00Z',
      },
      lastRollout: {
        version: 'a1b2c3d',
        digest: `sha256:${'a'.repeat(64)}`,
        startedAt: '2026-11-27T10:00:01Z',
        result: 'Succeeded',
        message: '',
      },
      failedDigests: [],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'RolloutSucceeded',
          message: '',
          lastTransitionTime: '2026-11-27T10:00:09Z',
        },
      ],
    };
    expect(validateStatus(status)).toEqual({ ok: true, value: status });
  });

  it('rejects a condition status that is not True, False or Unknown', () => {
    const result = validateStatus({
      conditions: [{ type: 'Ready', status: 'Yes', reason: 'X', lastTransitionTime: 't' }],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('status.conditions[0].status');
  });
});

describe('ContainerVersion imageRepo', () => {
  it('is checked with the full Docker grammar beyond the CRD pattern', () => {
    // The CRD pattern reads my_registry.local as a path component; Docker's grammar sees a bad host.
    const result = validateSpec({ ...minimal, imageRepo: 'my_registry.local/app' });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors).toEqual([
        { field: 'spec.imageRepo', message: expect.stringMatching(/^imageRepo /) },
      ]);
  });

  it.each(['nginx', 'localhost:5000/team/app', '[::1]:5000/x', 'ghcr.io/acme/api'])(
    'accepts %s',
    (imageRepo) => {
      expect(validateSpec({ ...minimal, imageRepo }).ok).toBe(true);
    },
  );
});
