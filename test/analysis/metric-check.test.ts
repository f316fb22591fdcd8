import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureMetric, type MetricCheck } from '../../src/analysis/metric-check.js';
import {
  prometheusInstalled,
  requirePrometheus,
  startMetricsEndpoint,
  startPrometheus,
  waitForScrapedValues,
  type MetricsEndpoint,
  type TestPrometheus,
} from '../support/prometheus.js';
import { freePort } from '../support/redis-server.js';
import { startHangingPeer, type Peer } from './peer.js';

let endpoint: MetricsEndpoint;
let prometheus: TestPrometheus;
let hanging: Peer;

beforeAll(async () => {
  hanging = await startHangingPeer();
  if (!prometheusInstalled()) return;
  endpoint = await startMetricsEndpoint();
  endpoint.set('check_test_error_ratio', 0.004);
  endpoint.set('check_test_p99_seconds', 0.3);
  endpoint.set('check_test_success_ratio', 0.97, { pod: 'canary-1' });
  endpoint.set('check_test_success_ratio', 0.91, { pod: 'canary-2' });
  endpoint.set('check_test_flipping', 1);
  prometheus = await startPrometheus({ scrapeTargets: [endpoint.hostPort] });
  await waitForScrapedValues(prometheus.url, 'count({__name__=~"check_test_.*"})', [5]);
});

afterAll(async () => {
  await hanging?.stop();
  await prometheus?.stop();
  await endpoint?.stop();
});

/** A check against the file's Prometheus; `address` is read when the test runs. */
const check = (fields: Partial<MetricCheck> & Pick<MetricCheck, 'query' | 'successCondition'>) => ({
  name: 'error-rate',
  address: prometheus.url,
  timeoutSeconds: 5,
  ...fields,
});

describe('measureMetric against a real Prometheus', () => {
  it('a value that meets successCondition is Successful', async () => {
    requirePrometheus();
    expect(
      await measureMetric(
        check({ query: 'check_test_error_ratio', successCondition: 'result < 0.01' }),
      ),
    ).toEqual({
      phase: 'Successful',
      value: '0.004',
      message: 'metric error-rate: successCondition result < 0.01 is true for 0.004',
    });
  });

  it('a value that misses successCondition is Failed', async () => {
    requirePrometheus();
    expect(
      await measureMetric(
        check({
          name: 'latency',
          query: 'check_test_p99_seconds',
          successCondition: 'result[0] < 0.25',
        }),
      ),
    ).toEqual({
      phase: 'Failed',
      value: '0.3',
      message: 'metric latency: successCondition result[0] < 0.25 is false for 0.3',
    });
  });

  it('a true failureCondition is Failed even when successCondition holds', async () => {
    requirePrometheus();
    const measured = await measureMetric(
      check({
        query: 'check_test_p99_seconds',
        successCondition: 'result < 1',
        failureCondition: 'result > 0.25',
      }),
    );
    expect(measured).toEqual({
      phase: 'Failed',
      value: '0.3',
      message: 'metric error-rate: failureCondition result > 0.25 is true for 0.3',
    });
    const calm = await measureMetric(
      check({
        query: 'check_test_p99_seconds',
        successCondition: 'result < 1',
        failureCondition: 'result > 0.5',
      }),
    );
    expect(calm.phase).toBe('Successful');
  });

  it('a vector of several samples is judged as a list, index by index', async () => {
    requirePrometheus();
    const query = 'sort_desc(check_test_success_ratio)';
    const all = await measureMetric(
      check({ query, successCondition: 'len(result) == 2 && result[1] >= 0.95' }),
    );
    expect([all.phase, all.value]).toEqual(['Failed', '[0.97, 0.91]']);
    const first = await measureMetric(check({ query, successCondition: 'result[0] >= 0.95' }));
    expect(first.phase).toBe('Successful');
  });

  it('an empty vector is [] and an Error where the condition needs a value', async () => {
    requirePrometheus();
    const empty = { query: 'check_test_never_scraped' };
    expect(await measureMetric(check({ ...empty, successCondition: 'result[0] < 5' }))).toEqual({
      phase: 'Error',
      value: '[]',
      message:
        'metric error-rate: successCondition result[0] < 5 cannot be evaluated for []: result[0] is out of range: result is empty',
    });
    const guarded = await measureMetric(
      check({ ...empty, successCondition: 'len(result) > 0 && result[0] < 5' }),
    );
    expect([guarded.phase, guarded.value]).toEqual(['Failed', '[]']);
  });

  it.each([
    ['scalar(check_test_error_ratio)', '0.004'],
    ['vector(1)', '1'],
    ['scalar(sum(check_test_success_ratio))', '1.88'],
  ])('the scalar-like query %s is judged as one number', async (query, value) => {
    requirePrometheus();
    const measured = await measureMetric(check({ query, successCondition: 'result > 0' }));
    expect([measured.phase, measured.value]).toEqual(['Successful', value]);
  });

  it('a NaN result (0/0: no traffic) is NaN, and isNaN can tell', async () => {
    requirePrometheus();
    const query = 'vector(0) / 0';
    const noTraffic = await measureMetric(check({ query, successCondition: 'result < 0.01' }));
    expect([noTraffic.phase, noTraffic.value]).toEqual(['Failed', 'NaN']);
    const tolerant = await measureMetric(
      check({ query, successCondition: 'isNaN(result) || result < 0.01' }),
    );
    expect(tolerant.phase).toBe('Successful');
  });

  it('a change in what Prometheus scrapes changes the verdict', async () => {
    requirePrometheus();
    const flipping = check({ query: 'check_test_flipping', successCondition: 'result == 1' });
    expect((await measureMetric(flipping)).phase).toBe('Successful');
    endpoint.set('check_test_flipping', 0);
    await waitForScrapedValues(prometheus.url, 'check_test_flipping', [0]);
    expect(await measureMetric(flipping)).toMatchObject({ phase: 'Failed', value: '0' });
  });

  it('a bad PromQL query is an Error showing what Prometheus said', async () => {
    requirePrometheus();
    const measured = await measureMetric(
      check({ query: 'sum(rate(check_test_error_ratio[1m])', successCondition: 'result < 1' }),
    );
    expect(measured.phase).toBe('Error');
    expect(measured.value).toBe('');
    expect(measured.message).toMatch(
      new RegExp(
        `^metric error-rate: Prometheus at ${prometheus.url} refused the query \\(400 bad_data\\): invalid parameter "query": 1:\\d+: parse error: unclosed left parenthesis$`,
      ),
    );
  });

  it('a range vector is an Error: a condition needs a scalar or an instant vector', async () => {
    requirePrometheus();
    const measured = await measureMetric(
      check({ query: 'check_test_error_ratio[1m]', successCondition: 'result < 1' }),
    );
    expect(measured.phase).toBe('Error');
    expect(measured.value).toMatch(/^\[0\.004(, 0\.004)*\]$/);
    expect(measured.message).toBe(
      'metric error-rate: the query gave a range vector (matrix); a condition needs a scalar or an instant vector',
    );
  });
});

describe('measureMetric when it cannot decide', () => {
  it('an address where nothing listens is an Error naming it', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    expect(
      await measureMetric({
        name: 'errors',
        address,
        query: 'up',
        successCondition: 'result == 1',
      }),
    ).toEqual({
      phase: 'Error',
      value: '',
      message: `metric errors: Prometheus at ${address} is not reachable: connect ECONNREFUSED ${address.slice(7)}`,
    });
  });

  it('a Prometheus that never answers is an Error once timeoutSeconds has passed', async () => {
    const started = Date.now();
    const measured = await measureMetric({
      name: 'errors',
      address: hanging.url,
      query: 'up',
      successCondition: 'result == 1',
      timeoutSeconds: 0.5,
    });
    const elapsedMs = Date.now() - started;
    expect(measured).toEqual({
      phase: 'Error',
      value: '',
      message: `metric errors: Prometheus at ${hanging.url} did not answer within 500 ms`,
    });
    expect(elapsedMs).toBeGreaterThanOrEqual(490);
    expect(elapsedMs).toBeLessThan(1400);
  });

  it('a condition that does not compile is an Error naming the field, before any query', async () => {
    let queried = false;
    const measured = await measureMetric(
      {
        name: 'errors',
        address: hanging.url,
        query: 'up',
        successCondition: 'result < 1',
        failureCondition: 'result >',
      },
      {
        fetch: () => {
          queried = true;
          return Promise.reject(new Error('not to be called'));
        },
      },
    );
    expect(measured).toEqual({
      phase: 'Error',
      value: '',
      message:
        'metric errors: failureCondition: expected a number, result, true, false, len(), isNaN(), isInf() or "(", found the end of the condition at column 9 in "result >"',
    });
    expect(queried).toBe(false);
  });

  it.each([0, -1, NaN, 601])(
    'timeoutSeconds %s is an Error, not a query',
    async (timeoutSeconds) => {
      const measured = await measureMetric({
        name: 'errors',
        address: hanging.url,
        query: 'up',
        successCondition: 'result < 1',
        timeoutSeconds,
      });
      expect(measured).toEqual({
        phase: 'Error',
        value: '',
        message: `metric errors: timeoutSeconds must be above 0 and at most 600, not ${timeoutSeconds}`,
      });
    },
  );
});
