import { ConditionEvaluationError } from './condition-error.js';
import { parseCondition, type Expr } from './condition-parser.js';

export { ConditionEvaluationError, InvalidConditionError } from './condition-error.js';

/**
 * What a query gave: one number (a scalar, or a vector of one sample) or the vector's values.
 * A number and a one-element array mean the same.
 */
export type ConditionInput = number | readonly number[];

/** A compiled success or failure condition of a metric check. */
export interface Condition {
  /** The condition as written. */
  readonly source: string;
  /**
   * Decides the condition for a query's result. `&&` and `||` stop early, so
   * `len(result) > 0 && result[0] < 5` is false, not an error, for an empty result.
   * @throws ConditionEvaluationError when it cannot be decided: an index out of range, or
   *   `result` compared (or given to isNaN/isInf) while it holds no value or several.
   */
  evaluate(result: ConditionInput): boolean;
}

/**
 * Compiles a condition in the style of Argo Rollouts' `successCondition`: `result < 0.01`,
 * `result[0] >= 0.95`, `len(result) > 0 && result[0] < 5`, `isNaN(result)`, `!(result > 3)`.
 *
 * The language: `result`; number literals (`5`, `0.01`, `1e-3`); `true`, `false`;
 * `< <= > >= == !=` (not chained), `&& || !`, `+ - * /`, parentheses; `result[i]` (0-based);
 * `len(result)`, `isNaN(x)`, `isInf(x)` (either sign). `result` is the number when the query gave
 * one value, the list otherwise; a single number also answers `result[0]` and `len(result)`, so
 * Argo-style `result[0]` works on a one-sample vector. Comparisons follow IEEE 754: anything
 * compared with NaN is false except `!=`. Nothing else can be named: the condition is parsed
 * and interpreted here, never handed to `eval`, so it reaches no global, property or prototype.
 * @throws InvalidConditionError naming the reason, column and condition
 */
export function compileCondition(source: string): Condition {
  const expr = parseCondition(source);
  return {
    source,
    evaluate(result: ConditionInput): boolean {
      const values = typeof result === 'number' ? [result] : result;
      return new Evaluation(source, values).bool(expr);
    },
  };
}

class Evaluation {
  constructor(
    private readonly source: string,
    private readonly result: readonly number[],
  ) {}

  bool(expr: Expr): boolean {
    switch (expr.kind) {
      case 'literal':
        return expr.value === true;
      case 'not':
        return !this.bool(expr.operand);
      case 'logical':
        return expr.op === '&&'
          ? this.bool(expr.left) && this.bool(expr.right)
          : this.bool(expr.left) || this.bool(expr.right);
      case 'compare':
        return this.#compare(expr.op, expr.left, expr.right);
      case 'call': {
        const value = this.number(expr.arg, `${expr.fn}()`);
        return expr.fn === 'isNaN' ? Number.isNaN(value) : Math.abs(value) === Infinity;
      }
      default:
        throw new Error(`a ${expr.kind} expression is not true or false (parser bug)`);
    }
  }

  #compare(op: string, left: Expr, right: Expr): boolean {
    if (left.type === 'bool') {
      const equal = this.bool(left) === this.bool(right);
      return op === '==' ? equal : !equal;
    }
    const a = this.number(left, `"${op}"`);
    const b = this.number(right, `"${op}"`);
    switch (op) {
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      case '==':
        return a === b;
      default:
        return a !== b;
    }
  }

  /** A number-valued expression; `result` must then hold exactly one value. */
  number(expr: Expr, use: string): number {
    switch (expr.kind) {
      case 'literal':
        return Number(expr.value);
      case 'result':
        return this.#single(use);
      case 'negate':
        return -this.number(expr.operand, '"-"');
      case 'index':
        return this.#index(this.number(expr.index, 'an index'));
      case 'call':
        if (expr.fn === 'len') return this.result.length;
        throw new Error(`${expr.fn}() is not a number (parser bug)`);
      case 'arithmetic': {
        const a = this.number(expr.left, `"${expr.op}"`);
        const b = this.number(expr.right, `"${expr.op}"`);
        if (expr.op === '+') return a + b;
        if (expr.op === '-') return a - b;
        return expr.op === '*' ? a * b : a / b;
      }
      default:
        throw new Error(`a ${expr.kind} expression is not a number (parser bug)`);
    }
  }

  #single(use: string): number {
    const [only] = this.result;
    if (this.result.length === 1 && only !== undefined) return only;
    const held =
      this.result.length === 0
        ? 'it is empty (the query returned no sample): check len(result) > 0 first'
        : `it holds ${this.result.length}: pick one with result[i]`;
    throw new ConditionEvaluationError(
      this.source,
      `${use} needs result to hold one value, and ${held}`,
    );
  }

  #index(i: number): number {
    if (!Number.isInteger(i))
      throw new ConditionEvaluationError(this.source, `result[${i}]: an index is a whole number`);
    const value = i >= 0 ? this.result[i] : undefined;
    if (value !== undefined) return value;
    const size =
      this.result.length === 0
        ? 'result is empty'
        : `result holds ${this.result.length} value${this.result.length === 1 ? '' : 's'}`;
    throw new ConditionEvaluationError(this.source, `result[${i}] is out of range: ${size}`);
  }
}
