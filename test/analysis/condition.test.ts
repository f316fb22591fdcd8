import { describe, expect, it } from 'vitest';
import {
  compileCondition,
  ConditionEvaluationError,
  InvalidConditionError,
  type ConditionInput,
} from '../../src/analysis/condition.js';

const decide = (condition: string, result: ConditionInput) =>
  compileCondition(condition).evaluate(result);

function compileError(condition: string): InvalidConditionError {
  try {
    compileCondition(condition);
  } catch (error) {
    if (error instanceof InvalidConditionError) return error;
    throw error;
  }
  throw new Error(`${condition} compiled`);
}

function evaluationError(condition: string, result: ConditionInput): ConditionEvaluationError {
  const compiled = compileCondition(condition);
  try {
    compiled.evaluate(result);
  } catch (error) {
    if (error instanceof ConditionEvaluationError) return error;
    throw error;
  }
  throw new Error(`${condition} was decided for ${JSON.stringify(result)}`);
}

describe('a condition in the style of Argo Rollouts', () => {
  it.each<[string, ConditionInput, boolean]>([
    ['result < 0.01', 0.004, true],
    ['result < 0.01', 0.02, false],
    ['result < 0.01', [0.004], true],
    ['result[0] >= 0.95', [0.96, 0.1], true],
    ['result[0] >= 0.95', [0.94, 0.99], false],
    ['result[1] >= 0.95', [0.94, 0.99], true],
    ['result[0] >= 0.95', 0.96, true],
    ['len(result) > 0 && result[0] < 5', [4.9], true],
    ['len(result) > 0 && result[0] < 5', [5], false],
    ['len(result) > 0 && result[0] < 5', [], false],
    ['len(result) == 3', [1, 2, 3], true],
    ['len(result) == 1', 7, true],
    ['len(result) == 0 || result > 1', [], true],
    ['isNaN(result)', NaN, true],
    ['isNaN(result)', 0, false],
    ['isNaN(result[1])', [1, NaN], true],
    ['isInf(result)', Infinity, true],
    ['isInf(result)', -Infinity, true],
    ['isInf(result)', 1e308, false],
    ['!(result > 3)', 2, true],
    ['!(result > 3)', 4, false],
    ['result == 1', 1, true],
    ['result != 1', 1, false],
    ['result >= 1 && result <= 1', 1, true],
    ['result > -1', -0.5, true],
    ['-result < 0', 5, true],
    ['result * 100 < 5', 0.04, true],
    ['result[0] / result[1] < 0.05', [1, 100], true],
    ['result[len(result) - 1] > 1', [0, 2], true],
    ['result < 1e-3', 0.0009, true],
    ['result < .5', 0.4, true],
    ['isNaN(result) == false', 1, true],
    ['true', [], true],
    ['false || !false', [], true],
  ])('%s for %j is %s', (condition, result, expected) => {
    expect(decide(condition, result)).toBe(expected);
  });

  it.each<[string, ConditionInput, boolean]>([
    // NaN compares false with everything, as in Go and IEEE 754; only != holds.
    ['result < 1', NaN, false],
    ['result >= 1', NaN, false],
    ['result == result', NaN, false],
    ['result != result', NaN, true],
    ['result > 1e308', Infinity, true],
  ])('IEEE 754: %s for %j is %s', (condition, result, expected) => {
    expect(decide(condition, result)).toBe(expected);
  });
});

describe('precedence', () => {
  it.each<[string, boolean]>([
    // && binds tighter than ||: true || (false && false)
    ['true || false && false', true],
    ['(true || false) && false', false],
    // ! binds tighter than && and ||
    ['!false && false', false],
    ['!(false && false)', true],
    // * before +, left to right within a level
    ['1 + 2 * 3 == 7', true],
    ['(1 + 2) * 3 == 9', true],
    ['10 - 4 - 3 == 3', true],
    ['8 / 4 / 2 == 1', true],
    // arithmetic before comparison, comparison before &&
    ['1 + 1 > 1 && 2 * 2 == 4', true],
    ['-2 * -2 == 4', true],
  ])('%s is %s', (condition, expected) => {
    expect(decide(condition, 0)).toBe(expected);
  });
});

describe('a condition that does not compile', () => {
  it.each<[string, number, string]>([
    [
      'result <',
      9,
      'expected a number, result, true, false, len(), isNaN(), isInf() or "(", found the end of the condition',
    ],
    ['result > 3)', 11, 'unexpected ")" (no "(" opened it)'],
    [
      '(result > 3',
      12,
      'expected ")" to close the "(" at column 1, found the end of the condition',
    ],
    [
      'result[0 + 1',
      13,
      'expected "]" to close the "[" at column 7, found the end of the condition',
    ],
    ['result[0 > 1] > 0', 8, 'an index needs result or a number, not true or false'],
    ['result = 1', 8, 'unexpected character "=": write == to compare'],
    ['result > 1 & result < 2', 12, 'unexpected character "&": write && for "and"'],
    ['result > 1 and result < 2', 12, 'unexpected "and": write && instead'],
    ['1 < result < 3', 12, 'comparisons cannot be chained; join them with && instead'],
    ['!result > 3', 2, '! needs true or false, not result'],
    ['result && true', 1, '&& needs true or false, not result'],
    ['result > true', 10, '> needs result or a number, not true or false'],
    ['len(3) > 1', 5, 'len() needs result, not a number'],
    ['len > 1', 5, 'len is a function: write len(…)'],
    ['5[0] > 1', 2, 'only result can be indexed, not a number'],
    ['result', 1, 'a condition must be true or false, this one gives result'],
    ['result * 2', 1, 'a condition must be true or false, this one gives a number'],
    ['result > 1a', 10, 'malformed number "1a"'],
    ['result > "1"', 10, 'unexpected character "\\"": a condition has no strings'],
    ['', 1, 'the condition is empty'],
    ['   ', 1, 'the condition is empty'],
  ])('%j fails at column %i: %s', (condition, column, reason) => {
    const error = compileError(condition);
    expect(error.reason).toBe(reason);
    expect(error.column).toBe(column);
    expect(error.message).toBe(`${reason} at column ${column} in ${JSON.stringify(condition)}`);
  });

  it('shows the condition and the column in its message, to be prefixed with the field', () => {
    expect(compileError('result >= 0.95 &&').message).toBe(
      'expected a number, result, true, false, len(), isNaN(), isInf() or "(", found the end of the condition at column 18 in "result >= 0.95 &&"',
    );
  });

  it('refuses nesting deeper than 32 levels and conditions longer than 1000 characters', () => {
    expect(compileCondition(`${'('.repeat(32)}result > 1${')'.repeat(32)}`).evaluate(2)).toBe(true);
    expect(compileError(`${'('.repeat(33)}result > 1${')'.repeat(33)}`).reason).toBe(
      'nested more than 32 levels deep',
    );
    expect(compileError(`${'!'.repeat(40)}true`).reason).toBe('nested more than 32 levels deep');
    expect(compileError(`result > 0${' || result > 0'.repeat(80)}`).reason).toBe(
      'longer than 1000 characters',
    );
  });
});

describe('a condition reaches nothing but result', () => {
  it.each([
    'constructor',
    'process',
    'globalThis',
    'this',
    '__proto__',
    'eval',
    'Function',
    'require',
    'Math',
    'NaN',
    'Infinity',
  ])('the name %s is unknown', (name) => {
    const error = compileError(`${name} > 0`);
    expect(error.reason).toBe(
      `unknown name "${name}": a condition can use result, true, false, len(), isNaN() and isInf()`,
    );
    expect(error.column).toBe(1);
  });

  it.each([
    [
      'result.constructor',
      7,
      'unexpected character ".": a condition has no fields; index with result[i]',
    ],
    ['result["constructor"] > 0', 8, 'unexpected character "\\"": a condition has no strings'],
    ["result['length'] > 0", 8, 'unexpected character "\'": a condition has no strings'],
    // Characters outside the language are refused before any name is looked at.
    [
      'process.exit(1)',
      8,
      'unexpected character ".": a condition has no fields; index with result[i]',
    ],
    [
      'len(result).constructor',
      12,
      'unexpected character ".": a condition has no fields; index with result[i]',
    ],
    ['result > 0; process.exit(1)', 11, 'unexpected character ";"'],
    ['`${process}`', 1, 'unexpected character "`"'],
    ['isNaN(result) || (() => 1)', 22, 'unexpected character "=": write == to compare'],
    [
      'isNaN(result) || (() > 1)',
      20,
      'expected a number, result, true, false, len(), isNaN(), isInf() or "(", found ")"',
    ],
  ])('%s is refused at column %i', (condition, column, reason) => {
    const error = compileError(condition);
    expect([error.column, error.reason]).toEqual([column, reason]);
  });
});

describe('a condition that cannot be decided for this result', () => {
  it.each<[string, ConditionInput, string]>([
    ['result[0] < 5', [], 'result[0] is out of range: result is empty'],
    ['result[2] < 5', [1, 2], 'result[2] is out of range: result holds 2 values'],
    ['result[1] < 5', 1, 'result[1] is out of range: result holds 1 value'],
    ['result[-1] < 5', [1, 2], 'result[-1] is out of range: result holds 2 values'],
    ['result[0.5] < 5', [1, 2], 'result[0.5]: an index is a whole number'],
    [
      'result < 0.01',
      [],
      '"<" needs result to hold one value, and it is empty (the query returned no sample): check len(result) > 0 first',
    ],
    [
      'result < 0.01',
      [1, 2],
      '"<" needs result to hold one value, and it holds 2: pick one with result[i]',
    ],
    [
      'isNaN(result)',
      [NaN, NaN],
      'isNaN() needs result to hold one value, and it holds 2: pick one with result[i]',
    ],
  ])('%s for %j: %s', (condition, result, reason) => {
    const error = evaluationError(condition, result);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`${JSON.stringify(condition)} cannot be evaluated: ${reason}`);
  });

  it('&& and || stop early, so a guarded index is never evaluated', () => {
    expect(decide('len(result) > 1 && result[1] > 0', [1])).toBe(false);
    expect(decide('len(result) < 2 || result[1] > 0', [1])).toBe(true);
    expect(() => decide('len(result) >= 1 && result[1] > 0', [1])).toThrow(
      ConditionEvaluationError,
    );
  });

  it('a compiled condition can be evaluated many times, each result on its own', () => {
    const condition = compileCondition('result[0] > 1');
    expect(condition.source).toBe('result[0] > 1');
    expect([condition.evaluate([2]), condition.evaluate([0]), condition.evaluate(3)]).toEqual([
      true,
      false,
      true,
    ]);
  });
});
