// How deep an update nests shared types (a map in a map in a map...), worked out from its bytes and
// the record before anything of it is applied.
//
// Yjs deletes and garbage-collects a shared type by recursing into what it holds, one call deeper per
// level. A few thousand levels (about 40 KB of update) overflow the stack: in the transaction that
// refuses them, in any later deletion of the structure (by anyone, at any time), and in the replay of
// the log when the record is next opened. So an update that would nest deeper than MAX_NESTING is
// refused whole, before it touches the document. A record needs about ten levels (visit, section,
// notes, list, list item, paragraph...); the limit leaves room for deeply indented notes.
//
// An item names where it lives in one of three ways: the item holding its parent type, or its left
// or right neighbour (it lives where they live), or a top-level type by name. Those references may
// point into the record or into the update itself, in long chains (every character of typed text
// names the one before it), so they are followed without recursion and each item is resolved once.

import * as Y from 'yjs';
import { ParentBy, scanUpdate } from './structs.js';

export const MAX_NESTING = 100;

interface Scanned {
  clock: number;
  length: number;
  holdsType: boolean;
  by: ParentBy;
  refClient: number;
  refClock: number;
  /** Depth of the type this item lives in (0: a top-level type); -1 until worked out. */
  depth: number;
}

/** How many types enclose `type` (0 for a top-level type), counting at most past `cap`. */
function depthInRecord(type: Y.AbstractType<any> | null, cap: number): number {
  let d = 0;
  for (let t = type; t !== null && t._item !== null && d <= cap; t = t._item.parent as Y.AbstractType<any> | null) d++;
  return d;
}

/** Depth of the deepest new shared type the updates would create, with the document's own levels counted. */
export function deepestNesting(updates: readonly Uint8Array[], store: Y.Doc['store']): number {
  const byClient = new Map<number, Scanned[]>();
  const ends = new Map<number, number>();
  for (const u of updates) {
    scanUpdate(u, ends, (client, clock, length, holdsType, by, refClient, refClock) => {
      let list = byClient.get(client);
      if (!list) byClient.set(client, (list = []));
      list.push({ clock, length, holdsType, by, refClient, refClock, depth: -1 });
    });
  }
  for (const list of byClient.values()) list.sort((a, b) => a.clock - b.clock);

  const inUpdate = (client: number, clock: number): Scanned | null => {
    const list = byClient.get(client);
    if (!list) return null;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = list[mid]!;
      if (clock < s.clock) hi = mid - 1;
      else if (clock >= s.clock + s.length) lo = mid + 1;
      else return s;
    }
    return null;
  };
  const inRecord = (client: number, clock: number): Y.Item | null => {
    if (clock >= Y.getState(store, client)) return null;
    const s = Y.getItem(store, Y.createID(client, clock));
    return s instanceof Y.Item ? s : null;
  };

  // Follows references until one resolves, then fills in every item met on the way.
  const resolve = (start: Scanned): number => {
    const chain: Scanned[] = [];
    /** Levels added between each item of the chain and the next (1 when the next holds its parent). */
    const steps: number[] = [];
    let s: Scanned | null = start;
    let base = 0;
    while (s !== null) {
      if (s.depth >= 0) {
        base = s.depth;
        break;
      }
      if (s.depth === -2) break; // a cycle (crafted): left to Yjs, which cannot place it either
      s.depth = -2;
      chain.push(s);
      if (s.by === ParentBy.Root) {
        base = 0;
        steps.push(0);
        break;
      }
      const inner = s.by === ParentBy.Item ? 1 : 0;
      steps.push(inner);
      const known = inRecord(s.refClient, s.refClock);
      if (known !== null) {
        const type = s.by === ParentBy.Item
          ? (known.content instanceof Y.ContentType ? known.content.type : null)
          : (known.parent as Y.AbstractType<any> | null);
        base = type === null ? 0 : depthInRecord(type, MAX_NESTING) - inner;
        break;
      }
      s = inUpdate(s.refClient, s.refClock);
      // Not found anywhere: Yjs keeps it waiting and the gate refuses the update as incomplete.
    }
    // `base` is the depth of what the last item of the chain refers to, less its own step.
    let depth = Math.max(0, base);
    for (let i = chain.length - 1; i >= 0; i--) {
      depth += steps[i] ?? 0;
      chain[i]!.depth = depth;
    }
    return start.depth;
  };

  let deepest = 0;
  for (const [client, list] of byClient) {
    const known = Y.getState(store, client);
    for (const s of list) {
      if (!s.holdsType || s.clock + s.length <= known) continue;
      deepest = Math.max(deepest, (s.depth >= 0 ? s.depth : resolve(s)) + 1);
    }
  }
  return deepest;
}
