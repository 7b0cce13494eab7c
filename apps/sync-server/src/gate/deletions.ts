// A bound on what a refused deletion may cost. Yjs cannot undelete: the gate puts back what a person
// may not delete by writing it again as new items, one per piece deleted (see revert.ts). A crafted
// message deleting every other character of a long text the sender may not edit (49,500 pieces in
// 188 KB) held every room for 0.4-0.9 s and left the record twenty times larger, each time it was
// sent. So before such an update is applied, the pieces it would delete where the sender's role may
// not delete are counted, and past MAX_REFUSED_DELETIONS the update is refused whole, unapplied.
// Only updates deleting that many clock units at all are counted; an ordinary edit is not looked at.

import * as Y from 'yjs';
import { canWriteKind, type Role } from '@pamoja/permissions';
import { describe } from './changes.js';
import { scanUpdate } from './structs.js';

export const MAX_REFUSED_DELETIONS = 1000;

/** Pieces of the record the updates would delete that `role` may not delete, counted up to past the limit. */
export function refusedDeletions(updates: readonly Uint8Array[], doc: Y.Doc, role: Role): number {
  const store = doc.store;
  let refused = 0;
  const ends = new Map<number, number>();
  const onDelete = (client: number, clock: number, length: number): void => {
    if (refused > MAX_REFUSED_DELETIONS) return;
    const structs = store.clients.get(client);
    const end = Math.min(clock + length, Y.getState(store, client));
    if (!structs || clock >= end) return;
    for (let i = Y.findIndexSS(structs, clock); i < structs.length && structs[i]!.id.clock < end; i++) {
      const s = structs[i]!;
      if (!(s instanceof Y.Item) || s.deleted || !(s.parent instanceof Y.AbstractType)) continue;
      const { unit } = describe(doc, 'delete', s);
      if (!unit || !canWriteKind(role, unit.kind) || unit.kind === 'visits' || unit.kind === 'visits/*') {
        if (++refused > MAX_REFUSED_DELETIONS) return;
      }
    }
  };
  for (const u of updates) scanUpdate(u, ends, null, null, onDelete);
  return refused;
}
