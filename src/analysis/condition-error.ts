/**
 * A condition that cannot be compiled: bad syntax, an unknown name, or parts that do not fit
 * together (`!result`, `len(3)`). The message names the reason, the column (1-based) and the
 * condition, e.g. `unexpected ")" at column 11 in "result > 3)"`; a caller prefixes the field.
 */
export class InvalidConditionError extends Error {
  /** 1-based column of the character where the condition went wrong. */
  readonly column: number;

  constructor(
    readonly condition: string,
    /** 0-based offset into `condition`. */
    offset: number,
    /** The reason alone, without position or condition. */
    readonly reason: string,
  ) {
    super(`${reason} at column ${offset + 1} in ${JSON.stringify(condition)}`);
    this.name = 'InvalidConditionError';
    this.column = offset + 1;
  }
}

/**
 * A compiled condition that cannot be decided for this result: an index out of range, or a
 * comparison of a result that does not hold exactly one value.
 */
export class ConditionEvaluationError extends Error {
  constructor(
    readonly condition: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(condition)} cannot be evaluated: ${reason}`);
    this.name = 'ConditionEvaluationError';
  }
}
