import { z } from 'zod';
import { PrometheusError } from './prometheus-error.js';

export type PrometheusResultType = 'vector' | 'scalar' | 'matrix' | 'string';

export interface PrometheusQueryResult {
  resultType: PrometheusResultType;
  /**
   * vector: each sample's value, in the order Prometheus returned them; scalar: its one value;
   * matrix: every sample of every series, series after series; string: empty. Prometheus' `NaN`,
   * `+Inf` and `-Inf` are `NaN`, `Infinity` and `-Infinity`.
   */
  values: number[];
  /** The response's `data` as Prometheus sent it (labels, timestamps, a string's text). */
  raw: unknown;
  /** `warnings` Prometheus attached to a successful answer; usually empty. */
  warnings: string[];
}

// The documented envelope and result formats of /api/v1/query (Prometheus HTTP API).
const sample = z.tuple([z.number(), z.string()]);
const labels = z.record(z.string(), z.string());
const data = z.discriminatedUnion('resultType', [
  z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: labels, value: sample })),
  }),
  z.object({
    resultType: z.literal('matrix'),
    result: z.array(z.object({ metric: labels, values: z.array(sample) })),
  }),
  z.object({ resultType: z.literal('scalar'), result: sample }),
  z.object({ resultType: z.literal('string'), result: sample }),
]);
const envelope = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});

const BODY_EXCERPT_CHARS = 200;

/**
 * Judges one answer of `/api/v1/query`. `where` starts every message ("Prometheus at …").
 * @throws PrometheusError: QueryFailed for a non-2xx answer or `status: "error"` (Prometheus'
 *   `errorType` and `error` in the message), BadResponse for anything that is not the documented
 *   JSON.
 */
export function parseQueryResponse(
  where: string,
  status: number,
  text: string,
): PrometheusQueryResult {
  const json = parseJson(text);
  const body = envelope.safeParse(json);
  if (status < 200 || status > 299) {
    const { errorType, error } = body.success ? body.data : {};
    const what = status === 400 || status === 422 ? 'refused the query' : 'answered';
    throw new PrometheusError(
      `${where} ${what} (${status}${errorType ? ` ${errorType}` : ''}): ${error ?? excerpt(text)}`,
      'QueryFailed',
      status === 429 || status >= 500,
      { status, ...(errorType ? { errorType } : {}) },
    );
  }
  if (json === undefined) throw badResponse(where, `a body that is not JSON: ${excerpt(text)}`);
  if (!body.success)
    throw badResponse(where, `JSON that is not a query answer (${issue(body.error)})`);
  if (body.data.status === 'error') {
    const { errorType, error } = body.data;
    throw new PrometheusError(
      `${where} answered status "error"${errorType ? ` (${errorType})` : ''}: ${error ?? 'no message'}`,
      'QueryFailed',
      errorType === 'timeout' || errorType === 'unavailable',
      { status, ...(errorType ? { errorType } : {}) },
    );
  }
  const result = data.safeParse(body.data.data);
  if (!result.success)
    throw badResponse(where, `a query answer of unknown shape (${issue(result.error, 'data')})`);
  return {
    resultType: result.data.resultType,
    values: valuesOf(where, result.data),
    raw: body.data.data,
    warnings: body.data.warnings ?? [],
  };
}

function valuesOf(where: string, result: z.infer<typeof data>): number[] {
  switch (result.resultType) {
    case 'vector':
      return result.result.map((s) => sampleValue(where, s.value[1]));
    case 'matrix':
      return result.result.flatMap((s) => s.values.map(([, v]) => sampleValue(where, v)));
    case 'scalar':
      return [sampleValue(where, result.result[1])];
    case 'string':
      return [];
  }
}

/** Prometheus writes sample values as Go formats a float64: `1`, `0.004`, `1e-05`, `NaN`, `+Inf`. */
function sampleValue(where: string, text: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const value = text.trim() === '' ? NaN : Number(text);
  if (Number.isNaN(value))
    throw badResponse(where, `a sample value that is not a number: "${text}"`);
  return value;
}

function badResponse(where: string, what: string): PrometheusError {
  return new PrometheusError(`${where} answered with ${what}`, 'BadResponse', false);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function excerpt(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (trimmed === '') return '(empty body)';
  return trimmed.length > BODY_EXCERPT_CHARS ? `${trimmed.slice(0, BODY_EXCERPT_CHARS)}…` : trimmed;
}

function issue(error: z.ZodError, prefix?: string): string {
  const first = error.issues[0];
  if (!first) return 'unexpected shape';
  const path = [...(prefix ? [prefix] : []), ...first.path.map(String)].join('.');
  return path ? `${path}: ${first.message}` : first.message;
}
