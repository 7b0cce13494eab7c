// Small shared pieces of the fault suites: a seeded random source, polling, and reading a document
// exactly as the server holds it (through a fresh connection that sends nothing of its own).

import * as Y from 'yjs';
import { sorted } from '../../helpers/record.js';
import { FaultClient } from './fault-client.js';

export function lcg(seed: number): () => number {
  let s = (seed >>> 0) || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 0x100000000);
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The server's current state of `docName`, as a fresh client receives it. */
export async function readDoc(base: string, docName: string, token: string): Promise<Y.Doc> {
  const reader = new FaultClient(base, docName, token);
  reader.bypassGate = true;
  reader.connect();
  try {
    await waitFor(() => reader.synced, 20_000, `read of ${docName}`);
  } finally {
    await reader.stop();
  }
  return reader.doc;
}

/** Same structs, same deletions, same content: true, or what differs. */
export function docDiff(a: Y.Doc, b: Y.Doc): string | null {
  const sva = Y.decodeStateVector(Y.encodeStateVector(a));
  const svb = Y.decodeStateVector(Y.encodeStateVector(b));
  for (const c of new Set([...sva.keys(), ...svb.keys()])) {
    if ((sva.get(c) ?? 0) !== (svb.get(c) ?? 0)) return `state vectors differ at client ${c}: ${sva.get(c) ?? 0} vs ${svb.get(c) ?? 0}`;
  }
  const ds = (d: Y.Doc): string => Buffer.from(Y.encodeStateAsUpdate(d, Y.encodeStateVector(d))).toString('hex');
  if (ds(a) !== ds(b)) return 'delete sets differ';
  // Map key order follows local insertion order, which legitimately differs between replicas.
  // Roots of a patient record are maps; a replica only lists the roots it has touched, so take both.
  const roots = [...new Set([...a.share.keys(), ...b.share.keys(), 'demographics', 'contact', 'visits'])].sort();
  const content = (d: Y.Doc): unknown => sorted(Object.fromEntries(roots.map((k) => [k, d.getMap(k).toJSON()])));
  const ca = content(a);
  const cb = content(b);
  const at = firstDifference(ca, cb, '');
  return at === null ? null : `content differs at ${at.path}: ${JSON.stringify(at.a)?.slice(0, 300)} vs ${JSON.stringify(at.b)?.slice(0, 300)}`;
}

/** The first place two JSON values differ: its path and both values there; null when they are equal. */
function firstDifference(a: unknown, b: unknown, path: string): { path: string; a: unknown; b: unknown } | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      const d = firstDifference(ao[k], bo[k], `${path}/${k}`);
      if (d) return d;
    }
  }
  return { path: path || '/', a, b };
}

export function sameDoc(a: Y.Doc, b: Y.Doc): boolean {
  return docDiff(a, b) === null;
}
