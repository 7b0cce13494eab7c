// A bound on what a refused deletion may cost. Yjs cannot undelete: the gate puts back what a person
// may not delete by writing it again as new items, one per piece deleted (see revert.ts). A crafted
// message deleting every other character of a long text the sender may not edit (49,500 pieces in
// 188 KB) held every room for 0.4-0.9 s and left the record twenty times larger, each time it was
// sent. Deleting a visit (one piece in the message) deletes the 20,000 inside it, all of which would be
// written again. So before an update is applied, the pieces it would delete where the sender's role
// may not delete are counted, and past MAX_REFUSED_DELETIONS the update is refused whole, unapplied.

import * as Y from 'yjs';
import { canWriteKind, type Role } from '@pamoja/permissions';
import { describe } from './changes.js';

export const MAX_REFUSED_DELETIONS = 1000;

/** Live items inside `type`, at any depth, counted up to past `cap` (without recursion). */
function liveInside(type: Y.AbstractType<any>, cap: number): number {
  let n = 0;
  const types = [type];
  const visit = (item: Y.Item | null): void => {
    if (item === null || item.deleted) return;
    n++;
    if (item.content instanceof Y.ContentType) types.push(item.content.type);
  };
  while (types.length && n <= cap) {
    const t = types.pop()!;
    for (let item = t._start; item !== null && n <= cap; item = item.right) visit(item);
    for (const item of t._map.values()) visit(item);
  }
  return n;
}

/**
 * Pieces of the record the delete ranges (flat: client, clock, length, ...) would delete that `role`
 * may not delete, counted up to past the limit. A piece that holds others (a visit, a section) counts
 * with everything inside it, whatever the ranges cover, so those are always looked at; single pieces
 * only when the ranges cover more than the limit at all.
 */
export function refusedDeletions(ranges: readonly number[], doc: Y.Doc, role: Role, covered: number): number {
  const store = doc.store;
  let refused = 0;
  const mayNot = (s: Y.Item): boolean => {
    const { unit } = describe(doc, 'delete', s);
    return !unit || !canWriteKind(role, unit.kind) || unit.kind === 'visits' || unit.kind === 'visits/*';
  };
  for (let r = 0; r < ranges.length && refused <= MAX_REFUSED_DELETIONS; r += 3) {
    const client = ranges[r]!;
    const clock = ranges[r + 1]!;
    const structs = store.clients.get(client);
    const end = Math.min(clock + ranges[r + 2]!, Y.getState(store, client));
    if (!structs || clock >= end) continue;
    for (let i = Y.findIndexSS(structs, clock); i < structs.length && structs[i]!.id.clock < end; i++) {
      const s = structs[i]!;
      if (!(s instanceof Y.Item) || s.deleted || !(s.parent instanceof Y.AbstractType)) continue;
      const holds = s.content instanceof Y.ContentType;
      if (!holds && covered <= MAX_REFUSED_DELETIONS) continue;
      if (!mayNot(s)) continue;
      refused += 1 + (holds ? liveInside((s.content as Y.ContentType).type, MAX_REFUSED_DELETIONS - refused) : 0);
      if (refused > MAX_REFUSED_DELETIONS) break;
    }
  }
  return refused;
}
