import { StatusError } from './contract.js';

/** A rule that makes matching requests fail (or hang) a number of times. */
export interface FaultRule {
  /** HTTP method to match (`PATCH`); any when absent. */
  method?: string;
  /** Matches the request path with its query string; a string matches as a substring. */
  pathPattern: RegExp | string;
  /** HTTP status to answer with, e.g. 409, 429, 500, 503. Ignored when `hang` is set. */
  status?: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Sent as `Retry-After` (and in the Status details) — useful with 429. */
  retryAfterSeconds?: number;
  /** Never answer: the request stays open until the client gives up or the emulator stops. */
  hang?: boolean;
  /** Overrides the Status message. */
  message?: string;
}

export type FaultAction =
  { kind: 'hang' } | { kind: 'fail'; error: StatusError; retryAfterSeconds?: number };

const reasons: Record<number, [string, string]> = {
  400: ['BadRequest', 'injected fault: bad request'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'injected fault: forbidden'],
  404: ['NotFound', 'injected fault: not found'],
  409: [
    'Conflict',
    'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
  ],
  410: ['Expired', 'injected fault: too old resource version'],
  422: ['Invalid', 'injected fault: invalid'],
  429: ['TooManyRequests', 'Too many requests, please try again later.'],
  500: ['InternalError', 'Internal error occurred: injected fault'],
  503: ['ServiceUnavailable', 'The server is currently unable to handle the request'],
  504: [
    'Timeout',
    'The server was unable to return a response in the time allotted, but may still be processing the request',
  ],
};

/** Fault injection and added latency for reliability tests. */
export class Faults {
  private rules: (FaultRule & { remaining: number })[] = [];
  private latency = 0;

  inject(rule: FaultRule): void {
    this.rules.push({ ...rule, remaining: rule.times ?? 1 });
  }

  /** Delays every request by `ms` real milliseconds (0 turns it off). */
  setLatency(ms: number): void {
    this.latency = ms;
  }

  latencyMs(): number {
    return this.latency;
  }

  /** Uses left of every rule, summed: 0 once every injected fault happened. */
  remaining(): number {
    return this.rules.reduce((sum, r) => sum + r.remaining, 0);
  }

  /** Removes every rule and the latency. */
  clear(): void {
    this.rules = [];
    this.latency = 0;
  }

  /** Consumes one use of the first rule matching the request, if any. */
  match(method: string, pathWithQuery: string): FaultAction | undefined {
    const rule = this.rules.find(
      (r) =>
        r.remaining > 0 &&
        (r.method === undefined || r.method.toUpperCase() === method) &&
        (typeof r.pathPattern === 'string'
          ? pathWithQuery.includes(r.pathPattern)
          : r.pathPattern.test(pathWithQuery)),
    );
    if (!rule) return undefined;
    rule.remaining--;
    if (rule.hang) return { kind: 'hang' };
    const status = rule.status ?? 500;
    const [reason, message] = reasons[status] ?? ['InternalError', `injected fault ${status}`];
    const details =
      rule.retryAfterSeconds !== undefined
        ? { retryAfterSeconds: rule.retryAfterSeconds }
        : undefined;
    return {
      kind: 'fail',
      error: new StatusError(status, reason, rule.message ?? message, details),
      ...(rule.retryAfterSeconds !== undefined
        ? { retryAfterSeconds: rule.retryAfterSeconds }
        : {}),
    };
  }
}
