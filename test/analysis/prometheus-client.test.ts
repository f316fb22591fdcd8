import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PrometheusError,
  queryPrometheus,
  type PrometheusQueryResult,
} from '../../src/analysis/prometheus-client.js';
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
import { startHangingPeer, startPeer, type Peer } from './peer.js';

let endpoint: MetricsEndpoint;
let prometheus: TestPrometheus;
const peers: Peer[] = [];
const opts = { timeoutMs: 5000 };

beforeAll(async () => {
  if (!prometheusInstalled()) return;
  endpoint = await startMetricsEndpoint();
  endpoint.set('client_test_requests', 95, { code: '200' });
  endpoint.set('client_test_requests', 5, { code: '500' });
  endpoint.set('client_test_odd', NaN, { kind: 'nan' });
  endpoint.set('client_test_odd', Infinity, { kind: 'inf' });
  endpoint.set('client_test_odd', -Infinity, { kind: 'minus-inf' });
  prometheus = await startPrometheus({ scrapeTargets: [endpoint.hostPort] });
  await waitForScrapedValues(prometheus.url, 'count({__name__=~"client_test_.*"})', [5]);
});

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  await prometheus?.stop();
  await endpoint?.stop();
});

async function peer(handler: Parameters<typeof startPeer>[0]): Promise<Peer> {
  const started = await startPeer(handler);
  peers.push(started);
  return started;
}

async function failure(promise: Promise<PrometheusQueryResult>): Promise<PrometheusError> {
  const error = await promise.then(
    (result) => new Error(`resolved with ${JSON.stringify(result)}`),
    (e: unknown) => e,
  );
  if (error instanceof PrometheusError) return error;
  throw error;
}

describe('queryPrometheus against a real Prometheus', () => {
  it('a vector gives each sample value in the order Prometheus returns them', async () => {
    requirePrometheus();
    const answer = await queryPrometheus(prometheus.url, 'sort_desc(client_test_requests)', opts);
    expect(answer.resultType).toBe('vector');
    expect(answer.values).toEqual([95, 5]);
    expect((answer.raw as any).result.map((s: any) => s.metric.code)).toEqual(['200', '500']);
    expect(answer.warnings).toEqual([]);
  });

  it('NaN, +Inf and -Inf samples are NaN, Infinity and -Infinity', async () => {
    requirePrometheus();
    const answer = await queryPrometheus(
      prometheus.url,
      'client_test_odd{kind="nan"} or client_test_odd{kind="inf"} or client_test_odd{kind="minus-inf"}',
      opts,
    );
    const byKind = Object.fromEntries(
      (answer.raw as any).result.map((s: any, i: number) => [s.metric.kind, answer.values[i]]),
    );
    expect(byKind).toEqual({ nan: NaN, inf: Infinity, 'minus-inf': -Infinity });
  });

  it('a scalar gives its one value, an empty vector none', async () => {
    requirePrometheus();
    const scalar = await queryPrometheus(prometheus.url, 'scalar(sum(client_test_requests))', opts);
    expect([scalar.resultType, scalar.values]).toEqual(['scalar', [100]]);
    const empty = await queryPrometheus(prometheus.url, 'client_test_absent_metric', opts);
    expect([empty.resultType, empty.values]).toEqual(['vector', []]);
  });

  it('a range vector gives every sample, and a string none', async () => {
    requirePrometheus();
    const matrix = await queryPrometheus(prometheus.url, 'client_test_requests[1m]', opts);
    expect(matrix.resultType).toBe('matrix');
    expect(matrix.values.length).toBeGreaterThanOrEqual(2);
    expect(new Set(matrix.values)).toEqual(new Set([95, 5]));
    const text = await queryPrometheus(prometheus.url, '"canary"', opts);
    expect([text.resultType, text.values, (text.raw as any).result[1]]).toEqual([
      'string',
      [],
      'canary',
    ]);
  });

  it('an address with a trailing slash or a path prefix reaches the API under it', async () => {
    requirePrometheus();
    const answer = await queryPrometheus(`${prometheus.url}/`, 'vector(3)', opts);
    expect(answer.values).toEqual([3]);
    const seen: string[] = [];
    const prefixed = await peer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
    await queryPrometheus(`${prefixed.url}/prometheus/`, 'up', opts);
    expect(seen).toEqual(['POST /prometheus/api/v1/query']);
  });

  it('a bad PromQL query is refused with the 400 and the parse error Prometheus sent', async () => {
    requirePrometheus();
    const error = await failure(queryPrometheus(prometheus.url, 'rate(client_test_requests', opts));
    expect(error.reason).toBe('QueryFailed');
    expect(error.transient).toBe(false);
    expect(error.details).toEqual({ status: 400, errorType: 'bad_data' });
    expect(error.message).toMatch(
      new RegExp(
        `^Prometheus at ${prometheus.url} refused the query \\(400 bad_data\\): invalid parameter "query": 1:\\d+: parse error: unclosed left parenthesis$`,
      ),
    );
  });

  it('a query Prometheus cannot execute is refused with the 422 and its message', async () => {
    requirePrometheus();
    // Both series end up with the same labels, which only shows when the query runs.
    const query = 'label_replace(client_test_requests, "code", "x", "", "")';
    const error = await failure(queryPrometheus(prometheus.url, query, opts));
    expect([error.reason, error.transient, error.details]).toEqual([
      'QueryFailed',
      false,
      { status: 422, errorType: 'execution' },
    ]);
    expect(error.message).toBe(
      `Prometheus at ${prometheus.url} refused the query (422 execution): vector cannot contain metrics with the same labelset`,
    );
  });
});

describe('queryPrometheus when Prometheus is not there or misbehaves', () => {
  it('an address where nothing listens is Unreachable, naming the address and the refusal', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    const error = await failure(queryPrometheus(address, 'up', opts));
    expect(error.reason).toBe('Unreachable');
    expect(error.transient).toBe(true);
    expect(error.message).toBe(
      `Prometheus at ${address} is not reachable: connect ECONNREFUSED ${address.slice(7)}`,
    );
  });

  it('a server that never answers is a Timeout after timeoutMs', async () => {
    const hanging = await startHangingPeer();
    peers.push(hanging);
    const started = Date.now();
    const error = await failure(queryPrometheus(hanging.url, 'up', { timeoutMs: 500 }));
    const elapsedMs = Date.now() - started;
    expect(error.reason).toBe('Timeout');
    expect(error.transient).toBe(true);
    expect(error.message).toBe(`Prometheus at ${hanging.url} did not answer within 500 ms`);
    expect(elapsedMs).toBeGreaterThanOrEqual(490);
    expect(elapsedMs).toBeLessThan(1400);
  });

  it('a body that stops half-way is a Timeout too', async () => {
    const stalling = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"success","data":');
    });
    const error = await failure(queryPrometheus(stalling.url, 'up', { timeoutMs: 300 }));
    expect(error.reason).toBe('Timeout');
  });

  it("the caller's signal aborts the query", async () => {
    const hanging = await startHangingPeer();
    peers.push(hanging);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(
      queryPrometheus(hanging.url, 'up', { timeoutMs: 5000, signal: controller.signal }),
    );
    expect([error.reason, error.transient]).toEqual(['Aborted', false]);
    expect(error.message).toBe(`Prometheus at ${hanging.url}: query aborted`);
  });

  it('a proxy answering 502 with HTML is a transient QueryFailed quoting the start of the body', async () => {
    const proxy = await peer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>\n<body>Bad   Gateway</body>\n</html>');
    });
    const error = await failure(queryPrometheus(proxy.url, 'up', opts));
    expect([error.reason, error.transient, error.details]).toEqual([
      'QueryFailed',
      true,
      { status: 502 },
    ]);
    expect(error.message).toBe(
      `Prometheus at ${proxy.url} answered (502): <html> <body>Bad Gateway</body> </html>`,
    );
  });

  it.each([
    [
      'a body that is not JSON',
      '<html>login</html>',
      'a body that is not JSON: <html>login</html>',
    ],
    [
      'JSON that is not a query answer',
      '{"hello":"world"}',
      'JSON that is not a query answer (status: Invalid option: expected one of "success"|"error")',
    ],
    [
      'an answer of unknown shape',
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}}',
      'a query answer of unknown shape (data.result.0.value: Invalid input: expected tuple, received undefined)',
    ],
    [
      'a sample value that is not a number',
      '{"status":"success","data":{"resultType":"scalar","result":[1,"many"]}}',
      'a sample value that is not a number: "many"',
    ],
  ])('a 200 with %s is a BadResponse', async (_what, body, detail) => {
    const odd = await peer((_req, res) => res.writeHead(200).end(body));
    const error = await failure(queryPrometheus(odd.url, 'up', opts));
    expect([error.reason, error.transient]).toEqual(['BadResponse', false]);
    expect(error.message).toBe(`Prometheus at ${odd.url} answered with ${detail}`);
  });

  it('a 200 with status "error" is a QueryFailed with its errorType and error', async () => {
    const odd = await peer((_req, res) =>
      res.writeHead(200).end('{"status":"error","errorType":"timeout","error":"query timed out"}'),
    );
    const error = await failure(queryPrometheus(odd.url, 'up', opts));
    expect([error.reason, error.transient]).toEqual(['QueryFailed', true]);
    expect(error.message).toBe(
      `Prometheus at ${odd.url} answered status "error" (timeout): query timed out`,
    );
  });

  it('an address that is not an http URL is InvalidAddress', async () => {
    const error = await failure(queryPrometheus('prometheus:9090', 'up', opts));
    expect([error.reason, error.message]).toEqual([
      'InvalidAddress',
      'Prometheus at prometheus:9090: not an http(s) URL',
    ]);
  });
});

describe('queryPrometheus requests', () => {
  it('POSTs the query as a form with its timeout, and GETs when POST is refused with 405', async () => {
    const seen: { method: string; url: string; body: string; type?: string }[] = [];
    const getOnly = await peer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          body,
          ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}),
        });
        if (req.method === 'POST') return res.writeHead(405).end('method not allowed');
        res
          .writeHead(200)
          .end('{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}');
      });
    });
    const answer = await queryPrometheus(getOnly.url, 'sum(rate(x[5m]))', { timeoutMs: 2500 });
    expect(answer.values).toEqual([2]);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/v1/query',
        body: 'query=sum%28rate%28x%5B5m%5D%29%29&timeout=2500ms',
        type: 'application/x-www-form-urlencoded',
      },
      {
        method: 'GET',
        url: '/api/v1/query?query=sum%28rate%28x%5B5m%5D%29%29&timeout=2500ms',
        body: '',
      },
    ]);
  });

  it('sends the given headers, turns user:password@ into Basic auth and masks the password', async () => {
    const headers: (string | undefined)[][] = [];
    const guarded = await peer((req, res) => {
      headers.push([req.headers.authorization, req.headers['x-scope-orgid'] as string | undefined]);
      res.writeHead(401).end('{"status":"error","errorType":"unauthorized","error":"no"}');
    });
    const withUser = guarded.url.replace('http://', 'http://reader:s3cret@');
    const error = await failure(
      queryPrometheus(withUser, 'up', { timeoutMs: 2000, headers: { 'X-Scope-OrgID': 'team-a' } }),
    );
    expect(headers).toEqual([
      [`Basic ${Buffer.from('reader:s3cret').toString('base64')}`, 'team-a'],
    ]);
    expect(error.message).toBe(
      `Prometheus at ${guarded.url.replace('http://', 'http://reader:***@')} answered (401 unauthorized): no`,
    );
    expect(error.message).not.toContain('s3cret');
  });
});
