import { InvalidConditionError } from './condition-error.js';
import { tokenize, type Operator, type Token } from './condition-lexer.js';

/** What an expression yields: the query's result (one number or several), a number, a truth. */
export type ValueType = 'result' | 'number' | 'bool';

export type Comparison = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type Arithmetic = '+' | '-' | '*' | '/';
export type FunctionName = 'len' | 'isNaN' | 'isInf';

export type Expr = { type: ValueType; at: number } & (
  | { kind: 'literal'; value: number | boolean }
  | { kind: 'result' }
  | { kind: 'index'; target: Expr; index: Expr }
  | { kind: 'call'; fn: FunctionName; arg: Expr }
  | { kind: 'not' | 'negate'; operand: Expr }
  | { kind: 'logical'; op: '&&' | '||'; left: Expr; right: Expr }
  | { kind: 'compare'; op: Comparison; left: Expr; right: Expr }
  | { kind: 'arithmetic'; op: Arithmetic; left: Expr; right: Expr }
);

/** Longest condition accepted, in characters. */
export const MAX_CONDITION_LENGTH = 1000;
/** Deepest nesting of parentheses, indexes, calls and unary operators. */
const MAX_DEPTH = 32;

const COMPARISONS = new Set<string>(['<', '<=', '>', '>=', '==', '!=']);
const FUNCTIONS = new Map<
  string,
  { fn: FunctionName; takes: readonly ValueType[]; gives: ValueType }
>([
  ['len', { fn: 'len', takes: ['result'], gives: 'number' }],
  ['isNaN', { fn: 'isNaN', takes: ['result', 'number'], gives: 'bool' }],
  ['isInf', { fn: 'isInf', takes: ['result', 'number'], gives: 'bool' }],
]);
const WORDS = new Map([
  ['and', '&&'],
  ['or', '||'],
  ['not', '!'],
]);
const KNOWN = 'result, true, false, len(), isNaN() and isInf()';
const VALUES = 'a number, result, true, false, len(), isNaN(), isInf() or "("';
const NUMERIC: readonly ValueType[] = ['result', 'number'];

/**
 * Parses a condition into a typed expression tree: a recursive-descent parser over
 * `||` < `&&` < comparison (not chained) < `+ -` < `* /` < unary `! -` < `[i]` < primary.
 * Names resolve only to `result`, `true`, `false` and the three functions: nothing else is
 * reachable. @throws InvalidConditionError
 */
export function parseCondition(source: string): Expr {
  if (source.trim() === '') throw new InvalidConditionError(source, 0, 'the condition is empty');
  if (source.length > MAX_CONDITION_LENGTH)
    throw new InvalidConditionError(
      source,
      MAX_CONDITION_LENGTH,
      `longer than ${MAX_CONDITION_LENGTH} characters`,
    );
  const parser = new Parser(source, tokenize(source));
  const expr = parser.condition();
  if (expr.type !== 'bool')
    throw new InvalidConditionError(
      source,
      0,
      `a condition must be true or false, this one gives ${describe(expr.type)}`,
    );
  return expr;
}

class Parser {
  #next = 0;
  #depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  condition(): Expr {
    const expr = this.#or();
    const rest = this.#peek();
    if (rest.kind !== 'end') {
      const word = rest.kind === 'name' ? WORDS.get(rest.text) : undefined;
      if (word) this.#fail(rest, `unexpected "${rest.text}": write ${word} instead`);
      const why = rest.text === ')' ? ' (no "(" opened it)' : '';
      this.#fail(rest, `unexpected ${found(rest)}${why}`);
    }
    return expr;
  }

  #or(): Expr {
    return this.#logical('||', () => this.#and());
  }

  #and(): Expr {
    return this.#logical('&&', () => this.#comparison());
  }

  #logical(op: '&&' | '||', operand: () => Expr): Expr {
    let left = operand();
    while (this.#accept(op)) {
      const right = operand();
      this.#expect(left, ['bool'], op);
      this.#expect(right, ['bool'], op);
      left = { kind: 'logical', op, left, right, type: 'bool', at: left.at };
    }
    return left;
  }

  #comparison(): Expr {
    const left = this.#sum();
    const token = this.#peek();
    if (token.kind !== 'operator' || !COMPARISONS.has(token.text)) return left;
    this.#next++;
    const op = token.text as Comparison;
    const right = this.#sum();
    const next = this.#peek();
    if (next.kind === 'operator' && COMPARISONS.has(next.text))
      this.#fail(next, 'comparisons cannot be chained; join them with && instead');
    const equality = op === '==' || op === '!=';
    if (equality && left.type === 'bool' && right.type === 'bool')
      return { kind: 'compare', op, left, right, type: 'bool', at: left.at };
    this.#expect(left, NUMERIC, op);
    this.#expect(right, NUMERIC, op);
    return { kind: 'compare', op, left, right, type: 'bool', at: left.at };
  }

  #sum(): Expr {
    return this.#arithmetic(['+', '-'], () => this.#term());
  }

  #term(): Expr {
    return this.#arithmetic(['*', '/'], () => this.#unary());
  }

  #arithmetic(ops: readonly Arithmetic[], operand: () => Expr): Expr {
    let left = operand();
    for (;;) {
      const token = this.#peek();
      const op = ops.find((o) => token.kind === 'operator' && token.text === o);
      if (!op) return left;
      this.#next++;
      const right = operand();
      this.#expect(left, NUMERIC, op);
      this.#expect(right, NUMERIC, op);
      left = { kind: 'arithmetic', op, left, right, type: 'number', at: left.at };
    }
  }

  #unary(): Expr {
    const token = this.#peek();
    if (token.kind === 'operator' && (token.text === '!' || token.text === '-')) {
      this.#next++;
      const operand = this.#nested(() => this.#unary());
      if (token.text === '!') {
        this.#expect(operand, ['bool'], '!');
        return { kind: 'not', operand, type: 'bool', at: token.at };
      }
      this.#expect(operand, NUMERIC, '-');
      return { kind: 'negate', operand, type: 'number', at: token.at };
    }
    return this.#postfix();
  }

  #postfix(): Expr {
    let expr = this.#primary();
    while (this.#peek().kind === 'operator' && this.#peek().text === '[') {
      const open = this.tokens[this.#next++]!;
      if (expr.type !== 'result')
        this.#fail(open, `only result can be indexed, not ${describe(expr.type)}`);
      const index = this.#nested(() => this.#or());
      this.#expect(index, NUMERIC, 'an index');
      this.#close(']', open);
      expr = { kind: 'index', target: expr, index, type: 'number', at: expr.at };
    }
    return expr;
  }

  #primary(): Expr {
    const token = this.tokens[this.#next++]!;
    if (token.kind === 'number')
      return { kind: 'literal', value: token.value, type: 'number', at: token.at };
    if (token.kind === 'operator' && token.text === '(') {
      const inner = this.#nested(() => this.#or());
      this.#close(')', token);
      return inner;
    }
    if (token.kind === 'name') return this.#name(token);
    return this.#fail(token, `expected ${VALUES}, found ${found(token)}`);
  }

  #name(token: Token & { kind: 'name' }): Expr {
    const { text, at } = token;
    if (text === 'result') return { kind: 'result', type: 'result', at };
    if (text === 'true' || text === 'false')
      return { kind: 'literal', value: text === 'true', type: 'bool', at };
    const fn = FUNCTIONS.get(text);
    if (!fn) {
      const instead = WORDS.get(text);
      return this.#fail(
        token,
        instead
          ? `unknown name "${text}": write ${instead} instead`
          : `unknown name "${text}": a condition can use ${KNOWN}`,
      );
    }
    const open = this.#peek();
    if (!this.#accept('(')) this.#fail(open, `${text} is a function: write ${text}(…)`);
    const arg = this.#nested(() => this.#or());
    this.#expect(arg, fn.takes, `${text}()`);
    this.#close(')', open);
    return { kind: 'call', fn: fn.fn, arg, type: fn.gives, at };
  }

  #nested(parse: () => Expr): Expr {
    if (++this.#depth > MAX_DEPTH)
      this.#fail(this.#peek(), `nested more than ${MAX_DEPTH} levels deep`);
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  #close(closing: ')' | ']', open: Token): void {
    if (this.#accept(closing)) return;
    const token = this.#peek();
    this.#fail(
      token,
      `expected "${closing}" to close the "${open.text}" at column ${open.at + 1}, found ${found(token)}`,
    );
  }

  #expect(expr: Expr, types: readonly ValueType[], what: string): void {
    if (types.includes(expr.type)) return;
    const wanted = types.map(describe).join(' or ');
    this.#failAt(expr.at, `${what} needs ${wanted}, not ${describe(expr.type)}`);
  }

  #accept(op: Operator): boolean {
    const token = this.#peek();
    if (token.kind !== 'operator' || token.text !== op) return false;
    this.#next++;
    return true;
  }

  #peek(): Token {
    return this.tokens[this.#next]!;
  }

  #fail(token: Token, reason: string): never {
    return this.#failAt(token.at, reason);
  }

  #failAt(at: number, reason: string): never {
    throw new InvalidConditionError(this.source, at, reason);
  }
}

function found(token: Token): string {
  return token.kind === 'end' ? 'the end of the condition' : `"${token.text}"`;
}

function describe(type: ValueType): string {
  if (type === 'bool') return 'true or false';
  return type === 'number' ? 'a number' : 'result';
}
