import { PrometheusError } from './prometheus-error.js';
import { parseQueryResponse, type PrometheusQueryResult } from './prometheus-response.js';

export { PrometheusError, type PrometheusErrorReason } from './prometheus-error.js';
export type { PrometheusQueryResult, PrometheusResultType } from './prometheus-response.js';

export interface QueryOptions {
  /** Time the whole request may take, body included; also sent as the query's `timeout`. */
  timeoutMs: number;
  /** Aborts the request; it then rejects with a `PrometheusError` of reason `Aborted`. */
  signal?: AbortSignal;
  /** Extra request headers, e.g. `authorization`. Never put in messages. */
  headers?: Record<string, string>;
  /** The fetch to use. Default: Node's global fetch. */
  fetch?: typeof fetch;
}

/**
 * Runs `query` as an instant query at Prometheus' current time: `POST {address}/api/v1/query`
 * with a form body (no URL length limit), then `GET` when something in front of Prometheus
 * answers 405. `address` is the base URL the API is served under (`http://prometheus:9090`, or
 * one with a path prefix); a `user:password@` in it is sent as Basic auth.
 * @throws PrometheusError naming the address (password masked), with reason InvalidAddress,
 *   Unreachable, Timeout, Aborted, QueryFailed (Prometheus' `errorType` and `error` in the
 *   message, e.g. a PromQL parse error) or BadResponse.
 */
export async function queryPrometheus(
  address: string,
  query: string,
  opts: QueryOptions,
): Promise<PrometheusQueryResult> {
  const where = `Prometheus at ${displayAddress(address)}`;
  const { url, authorization } = endpoint(address, where);
  const headers = { ...(authorization ? { authorization } : {}), ...opts.headers };
  const form = new URLSearchParams({
    query,
    timeout: `${Math.max(1, Math.ceil(opts.timeoutMs))}ms`,
  });
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const send = opts.fetch ?? ((input, init) => fetch(input, init));
  try {
    let response = await send(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      signal,
    });
    if (response.status === 405) {
      await response.body?.cancel();
      response = await send(`${url}?${form.toString()}`, { method: 'GET', headers, signal });
    }
    return parseQueryResponse(where, response.status, await response.text());
  } catch (error) {
    if (error instanceof PrometheusError) throw error;
    const options = { cause: error };
    if (opts.signal?.aborted)
      throw new PrometheusError(`${where}: query aborted`, 'Aborted', false, {}, options);
    if (timeout.aborted)
      throw new PrometheusError(
        `${where} did not answer within ${opts.timeoutMs} ms`,
        'Timeout',
        true,
        {},
        options,
      );
    throw new PrometheusError(
      `${where} is not reachable: ${networkDetail(error)}`,
      'Unreachable',
      true,
      {},
      options,
    );
  }
}

function endpoint(address: string, where: string): { url: string; authorization?: string } {
  let base: URL;
  try {
    base = new URL(address);
  } catch (error) {
    throw new PrometheusError(`${where}: not a URL`, 'InvalidAddress', false, {}, { cause: error });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new PrometheusError(`${where}: not an http(s) URL`, 'InvalidAddress', false);
  // fetch refuses URLs with credentials; they travel as a header instead.
  const user = decodeURIComponent(base.username);
  const authorization = user
    ? `Basic ${Buffer.from(`${user}:${decodeURIComponent(base.password)}`).toString('base64')}`
    : undefined;
  const url = `${base.origin}${base.pathname.replace(/\/+$/, '')}/api/v1/query`;
  return authorization ? { url, authorization } : { url };
}

/** undici's "fetch failed" keeps what happened in `cause`: ECONNREFUSED, ENOTFOUND, a reset… */
function networkDetail(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof AggregateError) {
    const code = (cause as { code?: unknown }).code;
    return (
      cause.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ') ||
      (typeof code === 'string' ? code : 'connection failed')
    );
  }
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The address for messages and logs, any password in it masked. */
export function displayAddress(address: string): string {
  try {
    const url = new URL(address);
    if (url.password) url.password = '***';
    return url.toString().replace(/\/$/, '');
  } catch {
    return address;
  }
}
