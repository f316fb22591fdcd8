import { InvalidConditionError } from './condition-error.js';

export type Operator =
  | '('
  | ')'
  | '['
  | ']'
  | '!'
  | '&&'
  | '||'
  | '<'
  | '<='
  | '>'
  | '>='
  | '=='
  | '!='
  | '+'
  | '-'
  | '*'
  | '/';

export type Token =
  | { kind: 'number'; value: number; text: string; at: number }
  | { kind: 'name'; text: string; at: number }
  | { kind: 'operator'; text: Operator; at: number }
  | { kind: 'end'; text: ''; at: number };

// Longest first, so `<=` is not read as `<` then `=`.
const OPERATORS: readonly Operator[] = [
  '&&',
  '||',
  '<=',
  '>=',
  '==',
  '!=',
  '(',
  ')',
  '[',
  ']',
  '!',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
];
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const SPACE = /^\s+/;

/** What a lone character probably meant, for the error message. */
const HINTS = new Map([
  ['=', 'write == to compare'],
  ['&', 'write && for "and"'],
  ['|', 'write || for "or"'],
  ['"', 'a condition has no strings'],
  ["'", 'a condition has no strings'],
  ['.', 'a condition has no fields; index with result[i]'],
]);

/** Splits a condition into tokens, ending with one `end` token. @throws InvalidConditionError */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at);
    const space = SPACE.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number) {
      const text = number[0];
      if (NAME.test(rest.slice(text.length)))
        throw new InvalidConditionError(
          source,
          at,
          `malformed number "${text}${rest.slice(text.length, text.length + 1)}"`,
        );
      tokens.push({ kind: 'number', value: Number(text), text, at });
      at += text.length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', text: name[0], at });
      at += name[0].length;
      continue;
    }
    const operator = OPERATORS.find((op) => rest.startsWith(op));
    if (operator) {
      tokens.push({ kind: 'operator', text: operator, at });
      at += operator.length;
      continue;
    }
    const char = String.fromCodePoint(rest.codePointAt(0) ?? 0);
    const hint = HINTS.get(char);
    throw new InvalidConditionError(
      source,
      at,
      `unexpected character ${JSON.stringify(char)}${hint ? `: ${hint}` : ''}`,
    );
  }
  tokens.push({ kind: 'end', text: '', at });
  return tokens;
}
