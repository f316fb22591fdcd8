import { compileCondition, ConditionEvaluationError, type Condition } from './condition.js';
import { queryPrometheus, type PrometheusQueryResult } from './prometheus-client.js';

/** One Prometheus metric of a canary's analysis, as Argo Rollouts' prometheus provider has it. */
export interface MetricCheck {
  /** Names the metric in messages. */
  name: string;
  /** Base URL of Prometheus' API, e.g. `http://prometheus.monitoring:9090`. */
  address: string;
  /** PromQL instant query; it should give a scalar or an instant vector. */
  query: string;
  /** True when the result is good (see `compileCondition`). */
  successCondition: string;
  /** True when the result is bad; checked before `successCondition`. Default: none. */
  failureCondition?: string;
  /** Time the query may take, connection and answer included. Default 10 s. */
  timeoutSeconds?: number;
}

export type MetricPhase = 'Successful' | 'Failed' | 'Error';

export interface Measurement {
  /**
   * Successful: `successCondition` is true (and `failureCondition` is not). Failed:
   * `failureCondition` is true, or `successCondition` is false. Error: nothing could be decided —
   * Prometheus unreachable or slow, a bad query, a condition that does not compile or cannot be
   * evaluated for this result (e.g. `result[0]` of an empty vector), a range vector or string.
   */
  phase: MetricPhase;
  /** What the query gave, short: `0.004`, `[0.1, 0.2]`, `[]`, `NaN`; empty when it gave nothing. */
  value: string;
  /** One line for people, naming the metric and why it is in this phase. */
  message: string;
}

export interface MeasureDeps {
  /** The fetch to use. Default: Node's global fetch. */
  fetch?: typeof fetch;
  /** Aborts the query; the measurement is then an Error saying so. */
  signal?: AbortSignal;
}

export const DEFAULT_METRIC_TIMEOUT_SECONDS = 10;
/** Longest `timeoutSeconds` accepted: ten minutes. */
const MAX_TIMEOUT_SECONDS = 600;
const MAX_VALUES_SHOWN = 10;

/**
 * Queries Prometheus once and judges the result with the check's conditions. Never throws for
 * anything the check or Prometheus did: every such failure is a Measurement of phase Error.
 * Pure apart from the one HTTP request.
 */
export async function measureMetric(
  check: MetricCheck,
  deps: MeasureDeps = {},
): Promise<Measurement> {
  const error = (value: string, why: string): Measurement => ({
    phase: 'Error',
    value,
    message: `metric ${check.name}: ${why}`,
  });
  let success: Condition;
  let failure: Condition | undefined;
  try {
    success = compileField('successCondition', check.successCondition);
    failure =
      check.failureCondition === undefined
        ? undefined
        : compileField('failureCondition', check.failureCondition);
  } catch (e) {
    return error('', (e as Error).message);
  }

  const timeoutSeconds = check.timeoutSeconds ?? DEFAULT_METRIC_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0 && timeoutSeconds <= MAX_TIMEOUT_SECONDS))
    return error(
      '',
      `timeoutSeconds must be above 0 and at most ${MAX_TIMEOUT_SECONDS}, not ${timeoutSeconds}`,
    );
  let answer: PrometheusQueryResult;
  try {
    answer = await queryPrometheus(check.address, check.query, {
      timeoutMs: timeoutSeconds * 1000,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (e) {
    return error('', (e as Error).message);
  }

  return judge(check.name, answer, success, failure);
}

/** The verdict on one answer: failureCondition first, then successCondition. */
function judge(
  name: string,
  answer: PrometheusQueryResult,
  success: Condition,
  failure: Condition | undefined,
): Measurement {
  const value = formatResult(answer);
  const measurement = (phase: MetricPhase, why: string): Measurement => ({
    phase,
    value,
    message: `metric ${name}: ${why}`,
  });
  if (answer.resultType === 'matrix' || answer.resultType === 'string') {
    const what = answer.resultType === 'matrix' ? 'range vector (matrix)' : 'string';
    return measurement(
      'Error',
      `the query gave a ${what}; a condition needs a scalar or an instant vector`,
    );
  }
  // A scalar and a one-sample vector both hold one value, which the condition treats as a number.
  let field: Field = 'failureCondition';
  try {
    if (failure?.evaluate(answer.values))
      return measurement('Failed', `failureCondition ${failure.source} is true for ${value}`);
    field = 'successCondition';
    const good = success.evaluate(answer.values);
    return measurement(
      good ? 'Successful' : 'Failed',
      `successCondition ${success.source} is ${good} for ${value}`,
    );
  } catch (e) {
    if (!(e instanceof ConditionEvaluationError)) throw e;
    const source = field === 'failureCondition' ? failure?.source : success.source;
    return measurement('Error', `${field} ${source} cannot be evaluated for ${value}: ${e.reason}`);
  }
}

type Field = 'successCondition' | 'failureCondition';

function compileField(field: Field, source: string): Condition {
  try {
    return compileCondition(source);
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`, { cause: e });
  }
}

/** `0.004`, `[0.1, 0.2]`, `[]`, `NaN`, `+Inf`; at most ten values, then how many more. */
export function formatResult(answer: PrometheusQueryResult): string {
  if (answer.resultType === 'string') {
    const text = Array.isArray(answer.raw) ? String(answer.raw[1]) : '';
    return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  }
  const { values } = answer;
  const [only] = values;
  if (answer.resultType !== 'matrix' && values.length === 1 && only !== undefined)
    return formatNumber(only);
  const shown = values.slice(0, MAX_VALUES_SHOWN).map(formatNumber);
  if (values.length > MAX_VALUES_SHOWN) shown.push(`… ${values.length - MAX_VALUES_SHOWN} more`);
  return `[${shown.join(', ')}]`;
}

/** As Prometheus writes them: `NaN`, `+Inf`, `-Inf`, else the shortest exact decimal. */
function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
