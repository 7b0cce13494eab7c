// What a record may hold as a plain value: JSON data. Yjs (lib0) also encodes BigInt, undefined,
// binary data and objects with an odd prototype, which a record must not hold and JSON cannot write.

/** Levels of arrays and objects a plain value may nest; record fields need two. */
const MAX_JSON_DEPTH = 32;

/**
 * Why `value` is not JSON data (text, a finite number, true or false, null, and arrays and plain
 * objects of those), named for a person ("a BigInt"), or null when it is. A property set to
 * undefined counts as absent, as in JSON (the web app clears an entry's optional field that way).
 */
export function notJsonData(value: unknown): string | null {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(v)) return 'a number that is not finite';
        continue;
      case 'bigint':
        return 'a BigInt';
      case 'undefined':
        return 'an undefined value';
      case 'object': {
        if (v === null) continue;
        if (depth >= MAX_JSON_DEPTH) return `values nested more than ${MAX_JSON_DEPTH} levels deep`;
        if (Array.isArray(v)) {
          for (const x of v) stack.push([x, depth + 1]);
          continue;
        }
        if (ArrayBuffer.isView(v)) return 'binary data';
        // lib0 decodes a key `__proto__` by assigning it, which swaps the object's prototype.
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) return 'an object that is not plain data';
        for (const x of Object.values(v)) if (x !== undefined) stack.push([x, depth + 1]);
        continue;
      }
      default:
        return `a ${typeof v}`;
    }
  }
  return null;
}

/** JSON's replacer for values it cannot write or would silently drop: rendered as text instead. */
function asText(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (ArrayBuffer.isView(v)) return `(binary, ${v.byteLength} bytes)`;
  if (typeof v === 'function' || typeof v === 'symbol') return `(${typeof v})`;
  return v;
}

/**
 * Any value as JSON text, never throwing: what JSON cannot write (a BigInt, binary data ...) is
 * written as text, and a value it cannot write at all (a cycle) as a note saying so. For audit rows
 * and messages, where one odd value must not cost anyone else their write.
 */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value, asText) ?? 'null';
  } catch (e) {
    return `(a value that cannot be written as JSON: ${e instanceof Error ? e.message : String(e)})`;
  }
}
