import { RateLimitedError, RegistryAuthError, RegistryError } from './registry-client.js';
import { DEFAULT_RETRY_AFTER_MS } from './retry-after.js';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const AUTH_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);
const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException']);

/**
 * An AWS SDK failure as a `RegistryError` that says what happens next: throttling → retry after
 * 10 s, credentials → permanent auth error, 5xx and network → transient, anything else permanent.
 */
export function ecrError(error: unknown, context: string): RegistryError {
  if (error instanceof RegistryError) return error;
  const sdk = (typeof error === 'object' && error !== null ? error : {}) as SdkError;
  const name = sdk.name ?? 'Error';
  const message = `${context}: ${name}: ${sdk.message ?? String(error)}`;
  if (sdk.$retryable?.throttling || THROTTLING.has(name)) {
    const limited = new RateLimitedError(message, DEFAULT_RETRY_AFTER_MS);
    return Object.assign(limited, { cause: error });
  }
  if (AUTH_ERRORS.has(name)) return Object.assign(new RegistryAuthError(message), { cause: error });
  const status = sdk.$metadata?.httpStatusCode;
  // No HTTP status at all: the request never got an answer (refused, reset, timed out).
  const transient = status === undefined || status >= 500 || name === 'ServerException';
  return new RegistryError(message, transient, { cause: error });
}
