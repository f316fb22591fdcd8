import { MalformedEventError } from '../push-event.js';

/**
 * One value of an untrusted payload together with the path that names it in errors
 * (`detail.repository-name`, `events[2].target.tag`, `message.data.tag`). Every accessor either
 * returns a value of the asked type or throws {@link MalformedEventError} naming the path, never
 * anything else, so normalizers can read deeply without guarding each step.
 *
 * `null` counts as absent: registries serialize missing optional fields either way.
 */
export class JsonField {
  private constructor(
    readonly value: unknown,
    /** Dotted path from the payload root; `''` for the root itself. */
    readonly path: string,
  ) {}

  /**
   * The root of a payload. `path` prefixes every child's path: `'Message'` for the event inside
   * an SNS notification, `'message.data'` for a decoded Pub/Sub message.
   */
  static root(value: unknown, path = ''): JsonField {
    return new JsonField(value, path);
  }

  /** The path as shown in errors; the root of an unprefixed payload is `(body)`. */
  get name(): string {
    return this.path === '' ? '(body)' : this.path;
  }

  get isAbsent(): boolean {
    return this.value === undefined || this.value === null;
  }

  get isObject(): boolean {
    return isPlainObject(this.value);
  }

  /** @throws {MalformedEventError} always, naming this field. */
  fail(reason: string): never {
    throw new MalformedEventError(this.name, reason);
  }

  /** The member `key` (absent when the object has no such own property). @throws when this is not an object. */
  get(key: string): JsonField {
    const object = this.object();
    const value = Object.hasOwn(object, key) ? object[key] : undefined;
    return new JsonField(value, this.path === '' ? key : `${this.path}.${key}`);
  }

  /** Own property names of an object. @throws when this is not an object. */
  keys(): string[] {
    return Object.keys(this.object());
  }

  /** The elements of an array, each with its `[i]` path. @throws when this is not an array. */
  items(): JsonField[] {
    if (!Array.isArray(this.value)) this.fail(expected('an array', this.value));
    // Array.from, not map: a hole in a sparse array is read as undefined, not skipped.
    return Array.from(
      this.value,
      (item: unknown, index) => new JsonField(item, `${this.path}[${index}]`),
    );
  }

  /** A required string; may be empty. */
  string(): string {
    if (typeof this.value !== 'string') this.fail(expected('a string', this.value));
    return this.value;
  }

  /** A required string that is not empty. */
  nonEmptyString(): string {
    const text = this.string();
    if (text === '') this.fail('must not be empty');
    return text;
  }

  /** `undefined` when absent, else a string (possibly empty). */
  optionalString(): string | undefined {
    return this.isAbsent ? undefined : this.string();
  }

  /** `undefined` when absent or empty, else the string. */
  optionalNonEmptyString(): string | undefined {
    const text = this.optionalString();
    return text === '' ? undefined : text;
  }

  /** A required finite number. */
  number(): number {
    if (typeof this.value !== 'number' || !Number.isFinite(this.value)) {
      this.fail(expected('a finite number', this.value));
    }
    return this.value;
  }

  private object(): Readonly<Record<string, unknown>> {
    if (!isPlainObject(this.value)) this.fail(expected('an object', this.value));
    return this.value;
  }
}

/** `text` JSON-quoted and cut short, for error messages and ignore reasons that echo payload values. */
export function quoteText(text: string): string {
  const limit = 100;
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expected(what: string, value: unknown): string {
  return value === undefined ? `required, but missing` : `expected ${what}, got ${typeName(value)}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}
