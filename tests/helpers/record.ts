// Reading a whole record for comparisons, and small Yjs helpers shared by the gate tests.

import * as Y from 'yjs';
import { ROOT_UNITS } from '@pamoja/schema';

/** Map keys in a fixed order: a Y.Map lists keys in the order they reached that replica. */
export function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
}

/**
 * The whole record as plain JSON (every known root type), keys sorted, so two replicas holding the
 * same record give the same string whatever order their updates arrived in.
 */
export function recordJson(doc: Y.Doc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ROOT_UNITS) out[name] = sorted(doc.getMap(name).toJSON());
  return out;
}

/** Every root type a document holds, known or not, as text: for "is this marker anywhere?" checks. */
export function everything(doc: Y.Doc): string {
  const parts: string[] = [];
  for (const name of doc.share.keys()) {
    const t = doc.share.get(name)!;
    // Unknown roots arrive as AbstractType; read them through every shape they could have.
    parts.push(name, JSON.stringify(doc.getMap(name).toJSON()));
    try {
      parts.push(doc.getText(name).toString(), doc.getArray(name).toJSON().toString(), doc.getXmlFragment(name).toString());
    } catch {
      /* a root is read as one kind only */
    }
    void t;
  }
  return parts.join('\n');
}

/** A seeded pseudo-random generator, so property tests are repeatable. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
