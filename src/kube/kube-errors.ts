import { ApiException } from '@kubernetes/client-node';

/**
 * A failed Kubernetes API call, classified so the caller knows what happens next (STYLE.md):
 * `transient` (409 Conflict, 429, 5xx, 408, network errors: retry with backoff, after
 * `retryAfterMs` when the server named one) or permanent (400, 401, 403, 404, 405, 415, 422 and
 * anything unrecognised: retrying cannot help).
 *
 * It never carries the original exception: client-node's `ApiException` message embeds the
 * response headers, and a pino error serializer would print a `cause`. Only the status code and
 * the Status `reason`/`message` parsed from the body are kept.
 */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';

  constructor(
    message: string,
    /** Retrying later may succeed. */
    readonly transient: boolean,
    /** HTTP status code; undefined for network errors. */
    readonly status: number | undefined,
    /** The Status `reason` (`NotFound`, `Conflict`, `Invalid`, …) or a network error code. */
    readonly reason: string | undefined,
    /** The server's `Retry-After` (429, 503) in ms, when it sent one. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  get conflict(): boolean {
    return this.status === 409;
  }
}

/** What {@link classifyKubeError} found out about a failure. */
export interface KubeErrorClassification {
  transient: boolean;
  status: number | undefined;
  reason: string | undefined;
  /** The Status message, or the error's own message for non-HTTP failures. */
  message: string;
  retryAfterMs: number | undefined;
}

const TRANSIENT_STATUS = new Set([408, 409, 429]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/** Classifies an error thrown by client-node (or a watch's `done`), without logging anything. */
export function classifyKubeError(error: unknown): KubeErrorClassification {
  if (error instanceof KubeApiError) {
    return {
      transient: error.transient,
      status: error.status,
      reason: error.reason,
      message: error.message,
      retryAfterMs: error.retryAfterMs,
    };
  }
  const status = statusCodeOf(error);
  if (status !== undefined) {
    const body = error instanceof ApiException ? parseStatusBody(error.body) : {};
    const headers = error instanceof ApiException ? error.headers : undefined;
    return {
      transient: TRANSIENT_STATUS.has(status) || status >= 500,
      status,
      reason: body.reason,
      message: body.message ?? `HTTP ${status}`,
      retryAfterMs: retryAfterMs(headers?.['retry-after']) ?? body.retryAfterMs,
    };
  }
  const code = networkCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return {
    transient: code !== undefined,
    status: undefined,
    reason: code,
    message,
    retryAfterMs: undefined,
  };
}

/** Wraps `error` as a {@link KubeApiError} with `context` (`get ContainerVersion shop/api`). */
export function toKubeApiError(error: unknown, context: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const c = classifyKubeError(error);
  const what = c.status !== undefined ? `${c.status}${c.reason ? ` ${c.reason}` : ''}` : c.reason;
  return new KubeApiError(
    `${context}: ${what ? `${what}: ` : ''}${c.message}`,
    c.transient,
    c.status,
    c.reason,
    c.retryAfterMs,
  );
}

/** True when `error` is an HTTP 404 from the API server. */
export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

/** True when `error` is an HTTP 409 (Conflict or AlreadyExists). */
export function isConflict(error: unknown): boolean {
  return statusCodeOf(error) === 409;
}

function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (error instanceof KubeApiError) return error.status;
  if (typeof error === 'object' && error !== null) {
    // A watch's done(err) carries statusCode; a 410 inside the stream carries code.
    const { statusCode } = error as { statusCode?: unknown };
    if (typeof statusCode === 'number') return statusCode;
  }
  return undefined;
}

function networkCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code, type } = error as { name?: unknown; code?: unknown; type?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (name === 'FetchError') return typeof code === 'string' ? code : `FetchError:${String(type)}`;
  if (name === 'AbortError' || name === 'TimeoutError') return name;
  const { cause } = error as { cause?: unknown };
  return cause !== undefined && cause !== error ? networkCodeOf(cause) : undefined;
}

interface ParsedStatus {
  reason?: string;
  message?: string;
  retryAfterMs?: number;
}

/** The Status fields of an error body (client-node 1.4 gives the raw text). */
function parseStatusBody(body: unknown): ParsedStatus {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() === '' ? {} : { message: body.slice(0, 500) };
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const status = value as {
    reason?: unknown;
    message?: unknown;
    details?: { retryAfterSeconds?: unknown };
  };
  const seconds = status.details?.retryAfterSeconds;
  return {
    ...(typeof status.reason === 'string' && status.reason !== '' ? { reason: status.reason } : {}),
    ...(typeof status.message === 'string' && status.message !== ''
      ? { message: status.message }
      : {}),
    ...(typeof seconds === 'number' && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}),
  };
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
