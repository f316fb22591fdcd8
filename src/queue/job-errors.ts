/**
 * Errors a job processor throws to tell the queue what happens next (STYLE.md). Anything else is
 * transient: the job is retried with exponential backoff and jitter until its attempts run out, and
 * then stays in the failed set, inspectable on the queue board.
 */

/** Nothing to retry (bad spec, a digest that failed): the job fails at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** Not yet (image too new, scan pending, registry rate limit): run again after `retryAfterMs` without spending an attempt. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}
