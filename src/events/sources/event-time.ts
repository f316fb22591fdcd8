import { quoteText, type JsonField } from './json-field.js';

/** RFC 3339 date-time; any number of fraction digits (ACR and Distribution send nanoseconds). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** 9999-12-31T23:59:59Z: later instants have no four-digit-year RFC 3339 form. */
const LAST_SECOND_OF_9999 = 253_402_300_799;

/**
 * The instant in an RFC 3339 field, as UTC with milliseconds (`2019-11-16T01:54:34.000Z`), so
 * times from every source compare as strings; `undefined` when the field is absent.
 *
 * @throws {MalformedEventError} when present but not an RFC 3339 date-time.
 */
export function optionalRfc3339Time(field: JsonField): string | undefined {
  const text = field.optionalString();
  if (text === undefined) return undefined;
  const ms = RFC3339.test(text) ? Date.parse(text.toUpperCase()) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    field.fail(`expected an RFC 3339 date-time after 1970, got ${quoteText(text)}`);
  }
  return new Date(ms).toISOString();
}

/**
 * The instant in a Unix-seconds field (integer or fraction), as UTC with milliseconds.
 *
 * @throws {MalformedEventError} when missing, not a number, negative or beyond the year 9999.
 */
export function unixSecondsTime(field: JsonField): string {
  const seconds = field.number();
  if (seconds < 0 || seconds > LAST_SECOND_OF_9999) {
    field.fail(`expected Unix seconds between 1970 and 9999, got ${seconds}`);
  }
  return new Date(seconds * 1000).toISOString();
}
