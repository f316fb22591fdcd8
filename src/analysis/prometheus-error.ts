/** Why a Prometheus query failed. */
export type PrometheusErrorReason =
  /** The address is not an http(s) URL. */
  | 'InvalidAddress'
  /** No connection (refused, DNS, reset). */
  | 'Unreachable'
  /** No full answer within `timeoutMs`. */
  | 'Timeout'
  /** The caller's signal aborted the request. */
  | 'Aborted'
  /** A non-2xx answer, or `status: "error"`: the query is bad, or Prometheus could not run it. */
  | 'QueryFailed'
  /** A 2xx answer that is not the documented JSON. */
  | 'BadResponse';

/** A failed query; the message names the address (its password masked) and what went wrong. */
export class PrometheusError extends Error {
  constructor(
    message: string,
    readonly reason: PrometheusErrorReason,
    /** Asking again later may succeed: network, timeout, 429, 5xx, Prometheus' own timeout. */
    readonly transient: boolean,
    /** The HTTP status and Prometheus' `errorType` (`bad_data`, `execution`, `timeout`…), when known. */
    readonly details: { status?: number; errorType?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PrometheusError';
  }
}
