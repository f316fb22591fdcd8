import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { classifyKubeError, toKubeApiError } from '../../src/kube/kube-errors.js';
import { formatLabelSelector } from '../../src/kube/label-selector.js';

const status = (code: number, reason: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'Status',
    status: 'Failure',
    code,
    reason,
    message: `${reason} msg`,
    ...extra,
  });
const apiError = (code: number, reason: string, headers: Record<string, string> = {}) =>
  new ApiException(code, 'HTTP', status(code, reason), {
    authorization: 'Bearer secret-token',
    ...headers,
  });

describe('classifyKubeError', () => {
  it.each([
    [400, 'BadRequest', false],
    [403, 'Forbidden', false],
    [404, 'NotFound', false],
    [422, 'Invalid', false],
    [409, 'Conflict', true],
    [429, 'TooManyRequests', true],
    [500, 'InternalError', true],
    [503, 'ServiceUnavailable', true],
  ])('an ApiException %i (%s) is transient: %s', (code, reason, transient) => {
    expect(classifyKubeError(apiError(code, reason))).toEqual({
      transient,
      status: code,
      reason,
      message: `${reason} msg`,
      retryAfterMs: undefined,
    });
  });

  it('takes Retry-After from the header, else from the Status details', () => {
    expect(
      classifyKubeError(apiError(429, 'TooManyRequests', { 'retry-after': '3' })),
    ).toMatchObject({
      retryAfterMs: 3000,
    });
    const fromBody = new ApiException(
      429,
      'HTTP',
      status(429, 'TooManyRequests', { details: { retryAfterSeconds: 2 } }),
      {},
    );
    expect(classifyKubeError(fromBody).retryAfterMs).toBe(2000);
  });

  it('network failures are transient; unknown errors are permanent', () => {
    const fetchError = Object.assign(new Error('request to http://x failed'), {
      name: 'FetchError',
      code: 'ECONNREFUSED',
      type: 'system',
    });
    expect(classifyKubeError(fetchError)).toMatchObject({
      transient: true,
      reason: 'ECONNREFUSED',
    });
    const watchStart = Object.assign(new Error('Internal Server Error'), { statusCode: 500 });
    expect(classifyKubeError(watchStart)).toMatchObject({ transient: true, status: 500 });
    expect(classifyKubeError(new TypeError('x is undefined')).transient).toBe(false);
  });

  it('a wrapped error keeps the Status and never the headers', () => {
    const wrapped = toKubeApiError(apiError(409, 'Conflict'), 'patch Deployment shop/web');
    expect(wrapped.message).toBe('patch Deployment shop/web: 409 Conflict: Conflict msg');
    expect(
      JSON.stringify({ ...wrapped, message: wrapped.message, cause: wrapped.cause }),
    ).not.toContain('secret-token');
    expect(wrapped).toMatchObject({ transient: true, conflict: true, status: 409 });
  });

  it('a body that is not JSON becomes the message', () => {
    const e = new ApiException(502, 'HTTP', '<html>bad gateway</html>', {});
    expect(classifyKubeError(e)).toMatchObject({
      transient: true,
      message: '<html>bad gateway</html>',
    });
  });
});

describe('formatLabelSelector', () => {
  it.each([
    [{ app: 'api' }, 'app=api'],
    [{ tier: 'web', app: 'api' }, 'app=api,tier=web'],
    [{ 'app.kubernetes.io/name': 'api', empty: '' }, 'app.kubernetes.io/name=api,empty='],
  ])('%j → %s', (labels, text) => {
    expect(formatLabelSelector(labels)).toBe(text);
  });

  it.each([
    {},
    { app: 'a,b' },
    { app: 'a b' },
    { 'a=b': 'c' },
    { '/x': 'y' },
    { app: 'x'.repeat(64) },
  ] as Record<string, string>[])('refuses %j', (labels) => {
    expect(() => formatLabelSelector(labels)).toThrow();
  });
});
