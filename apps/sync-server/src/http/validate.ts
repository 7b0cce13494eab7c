// Checks for what the HTTP API receives: JSON bodies, query strings and path parameters. Small on
// purpose: a schema library held about 3.7 MB of the server's memory for these few dozen rules.
//
// A schema reports every problem it finds, each with the field it is about, so one 400 answer can
// name them all ("username: must be at least 2 characters; role: must be one of ...").

export interface Issue {
  /** Dotted path of the field ("" for the whole input). */
  path: string;
  message: string;
}

export type Parsed<T> = { success: true; data: T } | { success: false; issues: Issue[] };

/** Returned by a check that pushed an issue. */
const INVALID: unique symbol = Symbol('invalid');
type Result<T> = T | typeof INVALID;
type Run<T> = (value: unknown, path: string, issues: Issue[]) => Result<T>;

export class Schema<T> {
  /** Checks `value` (found at `path`), adding what is wrong to `issues`. */
  constructor(readonly run: Run<T>) {}

  safeParse(value: unknown): Parsed<T> {
    const issues: Issue[] = [];
    const data = this.run(value, '', issues);
    return data === INVALID || issues.length ? { success: false, issues } : { success: true, data };
  }

  /** Absent (undefined) is allowed and stays absent. */
  optional(): Schema<T | undefined> {
    return new Schema<T | undefined>((v, p, i) => (v === undefined ? undefined : this.run(v, p, i)));
  }

  /** Absent (undefined) becomes `value`. */
  default(value: T): Schema<T> {
    return new Schema((v, p, i) => (v === undefined ? value : this.run(v, p, i)));
  }

  /** This schema, or else `other`; when neither fits, the issues are this schema's. */
  or<U>(other: Schema<U>): Schema<T | U> {
    return new Schema<T | U>((v, p, i) => {
      const mine: Issue[] = [];
      const a = this.run(v, p, mine);
      if (a !== INVALID && !mine.length) return a;
      const b = other.run(v, p, []);
      if (b !== INVALID) return b;
      i.push(...mine);
      return INVALID;
    });
  }

  /** A further check on a value that passed this schema. */
  refine(ok: (value: T) => boolean, message: string): Schema<T> {
    return new Schema((v, p, i) => {
      const r = this.run(v, p, i);
      if (r === INVALID) return r;
      if (ok(r)) return r;
      i.push({ path: p, message });
      return INVALID;
    });
  }

  transform<U>(f: (value: T) => U): Schema<U> {
    return new Schema<U>((v, p, i) => {
      const r = this.run(v, p, i);
      return r === INVALID ? INVALID : f(r);
    });
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A step of a string or number schema: a change to the value, or a check that reports and goes on. */
type Step<T> = { map: (v: T) => T } | { ok: (v: T) => boolean; message: string };

function stepped<T>(base: Run<T>, steps: Step<T>[]): Run<T> {
  return (v, p, i) => {
    let r = base(v, p, i);
    if (r === INVALID) return r;
    let failed = false;
    for (const s of steps) {
      if ('map' in s) r = s.map(r);
      else if (!s.ok(r)) {
        i.push({ path: p, message: s.message });
        failed = true;
      }
    }
    return failed ? INVALID : r;
  };
}

export class StringSchema extends Schema<string> {
  constructor(private readonly steps: Step<string>[] = []) {
    super(stepped((v, p, i) => {
      if (typeof v === 'string') return v;
      i.push({ path: p, message: `must be text${v === undefined ? ' and is required' : ''}` });
      return INVALID;
    }, steps));
  }

  private then(step: Step<string>): StringSchema {
    return new StringSchema([...this.steps, step]);
  }

  /** Leading and trailing white space is removed before the checks that follow. */
  trim(): StringSchema {
    return this.then({ map: (s) => s.trim() });
  }

  min(n: number, message = `must be at least ${n} characters`): StringSchema {
    return this.then({ ok: (s) => s.length >= n, message });
  }

  max(n: number, message = `must be at most ${n} characters`): StringSchema {
    return this.then({ ok: (s) => s.length <= n, message });
  }

  /** A check reported alongside the others (`refine` runs only once they have passed). */
  check(ok: (value: string) => boolean, message: string): StringSchema {
    return this.then({ ok, message });
  }

  regex(re: RegExp, message: string): StringSchema {
    return this.then({ ok: (s) => re.test(s), message });
  }
}

export class NumberSchema extends Schema<number> {
  constructor(private readonly steps: Step<number>[] = []) {
    // Query strings and path parameters are text: a number is read from them.
    super(stepped((v, p, i) => {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n === 'number' && Number.isFinite(n)) return n;
      i.push({ path: p, message: 'must be a number' });
      return INVALID;
    }, steps));
  }

  private then(step: Step<number>): NumberSchema {
    return new NumberSchema([...this.steps, step]);
  }

  int(): NumberSchema {
    return this.then({ ok: Number.isInteger, message: 'must be a whole number' });
  }

  min(n: number, message = `must be at least ${n}`): NumberSchema {
    return this.then({ ok: (x) => x >= n, message });
  }

  max(n: number, message = `must be at most ${n}`): NumberSchema {
    return this.then({ ok: (x) => x <= n, message });
  }
}

export const string = (): StringSchema => new StringSchema();

/** Control characters, and the direction overrides that make text display otherwise than it reads. */
const HIDDEN = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** Text a person typed: trimmed, at most `max` characters, no control characters. */
export const text = (max: number): StringSchema =>
  string().trim().max(max).check((s) => !HIDDEN.test(s), 'must not contain control characters');

/** A person's name: such text, given, with at least one letter (not only marks, digits or invisible characters). */
export const personName = (): StringSchema =>
  text(100).min(1, 'is required').check((s) => s === '' || /\p{L}/u.test(s), 'must contain a letter');

/** A number, or text that reads as one. */
export const number = (): NumberSchema => new NumberSchema();

export const boolean = (): Schema<boolean> => new Schema((v, p, i) => {
  if (typeof v === 'boolean') return v;
  i.push({ path: p, message: 'must be true or false' });
  return INVALID;
});

/** Any JSON value, but there. */
export const present = (): Schema<unknown> => new Schema((v, p, i) => {
  if (v !== undefined) return v;
  i.push({ path: p, message: 'is required' });
  return INVALID;
});

export const literal = <const L extends string | number | boolean>(value: L): Schema<L> => new Schema((v, p, i) => {
  if (v === value) return value;
  i.push({ path: p, message: `must be ${JSON.stringify(value)}` });
  return INVALID;
});

export const oneOf = <const V extends readonly string[]>(values: V, message = `must be one of ${values.join(', ')}`): Schema<V[number]> =>
  new Schema((v, p, i) => {
    if (typeof v === 'string' && values.includes(v)) return v as V[number];
    i.push({ path: p, message });
    return INVALID;
  });

type Shape = Record<string, Schema<unknown>>;
type Fields<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

export class ObjectSchema<S extends Shape> extends Schema<Fields<S>> {
  constructor(readonly shape: S, private readonly strict: boolean) {
    super((v, p, i) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        i.push({ path: p, message: 'must be a JSON object' });
        return INVALID;
      }
      const input = v as Record<string, unknown>;
      const at = (k: string): string => (p ? `${p}.${k}` : k);
      const out: Record<string, unknown> = {};
      let failed = false;
      for (const [k, schema] of Object.entries(shape)) {
        const r = schema.run(Object.hasOwn(input, k) ? input[k] : undefined, at(k), i);
        if (r === INVALID) failed = true;
        else if (r !== undefined) out[k] = r; // an absent optional field stays absent
      }
      if (strict) {
        for (const k of Object.keys(input)) {
          if (!Object.hasOwn(shape, k)) {
            i.push({ path: at(k), message: 'is not a field this accepts' });
            failed = true;
          }
        }
      }
      return failed ? INVALID : (out as Fields<S>);
    });
  }

  /** The same kind of object with more fields. */
  extend<E extends Shape>(more: E): ObjectSchema<Omit<S, keyof E> & E> {
    return new ObjectSchema({ ...this.shape, ...more } as Omit<S, keyof E> & E, this.strict);
  }
}

/** An object; fields it does not name are dropped. */
export const object = <S extends Shape>(shape: S): ObjectSchema<S> => new ObjectSchema(shape, false);

/** An object; a field it does not name is an error. */
export const strictObject = <S extends Shape>(shape: S): ObjectSchema<S> => new ObjectSchema(shape, true);

/** "firstName: is required; sex: must be one of female, male". */
export function describeIssues(issues: Issue[]): string {
  return issues.map((i) => `${i.path || 'body'}: ${i.message}`).join('; ');
}
