// The sync gate's check stage: apply an update under the sender's identity, judge every change,
// undo the refused ones in the same transaction, and report what was kept, refused and in conflict.

import * as Y from 'yjs';
import { ROLE_LABELS, type Role } from '@pamoja/permissions';
import { deletedItems, insertedItems, isNew, stateAdvanced, valueOf, type Change } from './changes.js';
import { fieldRows, groupByField, readChanges, type TxView } from './fields.js';
import { judge } from './rules.js';
import { Restorer } from './revert.js';
import { keepDeletions, scanUpdate, type ScanTotals } from './structs.js';
import { MAX_REFUSED_DELETIONS, refusedDeletions } from './deletions.js';
import { deepestNesting, MAX_NESTING } from './nesting.js';

export interface Refusal {
  path: string;
  reason: string;
  tried: unknown;
}

export interface FieldChange {
  path: string;
  visitId: string | null;
  oldValue: unknown;
  newValue: unknown;
  outcome: 'applied' | 'reverted-forbidden' | 'conflict';
  reason?: string;
}

export interface ConflictFound {
  path: string;
  visitId: string | null;
  theirs: { value: unknown; clientId: number };
  ours: { value: unknown };
  winner: 'theirs' | 'ours';
}

export interface GateResult {
  /** Anything in the update integrated (new structs or deletes)? */
  changed: boolean;
  /** The bytes to persist and fan out, in order. Empty when nothing changed. */
  updates: Uint8Array[];
  refusals: Refusal[];
  fields: FieldChange[];
  conflicts: ConflictFound[];
  /** Client ids that authored new structs in this update (checked before applying). */
  authors: Set<number>;
  /**
   * Pieces refused after they were applied: deleted ones written again (see revert.ts), and new
   * ones deleted, which stay in the record as deleted pieces.
   */
  restored: number;
  /** Why the whole update was refused (malformed, pending dependencies), if it was. */
  wholeRefusal: string | null;
  /**
   * The bytes could not be decoded, or hold what stock Yjs never writes: the connection should be
   * closed. When `changed` is also set, Yjs integrated part of it first: nothing of it may be stored
   * or sent on, and the document in memory must be reopened from disk.
   */
  malformed: boolean;
  /**
   * Part of it (or all) was left out because it builds on changes the server does not have: not
   * refused for good, and not saved. Its sender is to send it again once they may have arrived.
   */
  held: boolean;
}

export interface GateContext {
  role: Role;
  /** Returns a reason when this connection may not author new structs for `clientId`. */
  checkAuthor: (clientId: number) => string | null;
  /** Whether the sender owns the editing session `clientId` (already on record). */
  isOwn: (clientId: number) => boolean;
  lockedBy: (fieldPath: string, unitPath: string) => string | null;
  /** Check permissions (true) or only record and persist (false: benchmarks' gate-off mode). */
  enforce: boolean;
  /** Refuse the update whole, unapplied, for this reason (null: judge it). */
  refuseAll?: string | null;
  /**
   * Told how many pieces the update carries, before anything is applied; a reason refuses it whole
   * and holds it (the sender's budget of new pieces is spent for now).
   */
  takeItems?: (items: number) => string | null;
}

/** Told to a sender whose update builds partly on a colleague's changes the server does not have. */
export const PENDING_ON_COLLEAGUE = 'Part of your change builds on a colleague\'s changes that have not reached the server yet; it is sent again when you reconnect after theirs are saved';

/**
 * Items one update may carry. Each costs time to integrate and, when refused, stays in the record as
 * a deleted piece for good: an 8 MB update of a million one-character items, refused, held the
 * server for 8.8 s and left 7 MB in the record. A 2,000-edit offline bundle carries about 2,600, a
 * 20,000-edit shift on one record about 25,000.
 */
export const MAX_ITEMS_PER_UPDATE = 30_000;

/** New Yjs client ids one update may introduce. */
export const MAX_NEW_CLIENTS_PER_UPDATE = 64;

/**
 * Yjs writes a map entry as one value; only entries already deleted merge into longer runs. A live
 * entry holding several values (crafted) can be split by a later partial delete into a deleted part
 * and a live part, which a replica loading the record from scratch rebuilds as deleted: the copies
 * would no longer agree.
 */
function manyValuedEntry(item: Y.Item): boolean {
  return item.parentSub !== null && item.length > 1 && !(item.content instanceof Y.ContentDeleted);
}

/**
 * Yjs places an item next to its neighbours at the time it was written (its origins), which are in
 * the same list or map key. An update that re-sends a clock the server already has, with different
 * content, gets the known part cut off, and the rest is given that clock's item as its origin, which
 * may sit elsewhere in the record. Such an item lives where its parent says, but anyone loading the
 * record from scratch puts it where its origin is.
 */
function strayItem(store: Y.Doc['store'], item: Y.Item): boolean {
  for (const id of [item.origin, item.rightOrigin]) {
    if (id === null) continue;
    const next = Y.getItem(store, id);
    if (next instanceof Y.Item && (next.parent !== item.parent || next.parentSub !== item.parentSub)) return true;
  }
  return false;
}

/** How far along its list an item's origins are looked for before the whole list is numbered. */
const NEAR = 16;

const holds = (item: Y.Item, id: Y.ID): boolean =>
  item.id.client === id.client && item.id.clock <= id.clock && id.clock < item.id.clock + item.length;

/**
 * Where items sit in their lists, numbered left to right. A list is numbered only when an item's
 * origins are not close by, and once per update: many crafted items then cost one pass over their
 * list, not one each.
 */
class Positions {
  private readonly lists: Map<Y.Item, number>[] = [];

  of(item: Y.Item): Map<Y.Item, number> {
    for (const list of this.lists) if (list.has(item)) return list;
    let first = item;
    while (first.left !== null) first = first.left;
    const list = new Map<Y.Item, number>();
    let i = 0;
    for (let n: Y.Item | null = first; n !== null; n = n.right) list.set(n, i++);
    this.lists.push(list);
    return list;
  }
}

/**
 * Yjs writes an item between its neighbours at the time, origin on the left and right origin on
 * the right, and every copy of the record then places it between the two. A crafted item whose right
 * origin lies left of its origin has no such place: where Yjs puts it depends on how the text around
 * it happens to be cut into structs, which differs between the copy in memory, a copy rebuilt from it
 * (a snapshot, a client's first sync) and one replaying the log. So an item must sit right of its
 * origin and left of its right origin.
 */
function outsideOrigins(store: Y.Doc['store'], item: Y.Item, positions: Positions): boolean {
  for (const [id, toLeft] of [[item.origin, true], [item.rightOrigin, false]] as const) {
    if (id === null) continue;
    // Usually the origin is the next item, or a few concurrent inserts away.
    let n = toLeft ? item.left : item.right;
    for (let k = 0; n !== null && k < NEAR && !holds(n, id); k++) n = toLeft ? n.left : n.right;
    if (n === null) return true;
    if (holds(n, id)) continue;
    const list = positions.of(item);
    const other = Y.getItem(store, id);
    const at = other instanceof Y.Item ? list.get(other) : undefined;
    if (at === undefined || (toLeft ? at >= list.get(item)! : at <= list.get(item)!)) return true;
  }
  return false;
}

/** Why an integrated item is one stock Yjs never writes, or null. */
function malformedItem(store: Y.Doc['store'], inserted: readonly Y.Item[]): string | null {
  const positions = new Positions();
  for (const item of inserted) {
    if (manyValuedEntry(item)) return 'a map entry holds several values';
    if (strayItem(store, item)) return 'an item is placed beside one in another part of the record';
    if (outsideOrigins(store, item, positions)) return 'an item is not placed between its neighbours';
  }
  return null;
}

/**
 * Applies one connection's update messages (several when they arrived together) in one transaction,
 * judged as a whole the way an offline bundle is: each change by its unit, refused parts undone.
 */
export function applyGuarded(doc: Y.Doc, batch: readonly Uint8Array[], origin: object, ctx: GateContext): GateResult {
  const result: GateResult = {
    changed: false, updates: [], refusals: [], fields: [], conflicts: [], authors: new Set(), wholeRefusal: null,
    malformed: false, restored: 0, held: false,
  };
  if (ctx.refuseAll) {
    result.wholeRefusal = ctx.refuseAll;
    return result;
  }
  let restorer: Restorer | null = null;
  let netUpdate: Uint8Array | null = null;
  const captureNet = (u: Uint8Array): void => {
    netUpdate = u;
  };

  // Authorship first, before anything integrates: structs (even deleted ones) written under another
  // person's client id would occupy that person's clock range, and their real edits would be dropped.
  const ends = new Map<number, number>();
  const totals: ScanTotals = { types: false, items: 0, deleted: 0, deletes: [] };
  try {
    for (const update of batch) scanUpdate(update, ends, null, totals);
  } catch (e) {
    result.wholeRefusal = `The update could not be read (${e instanceof Error ? e.message : String(e)})`;
    result.malformed = true;
    return result;
  }
  if (totals.items > MAX_ITEMS_PER_UPDATE) {
    result.wholeRefusal = `The update carries ${totals.items} pieces, more than the ${MAX_ITEMS_PER_UPDATE} one update may carry; it was not applied`;
    return result;
  }
  const overBudget = totals.items > 0 && ctx.takeItems ? ctx.takeItems(totals.items) : null;
  if (overBudget) {
    result.wholeRefusal = overBudget;
    result.held = true;
    return result;
  }
  let newClients = 0;
  const foreign = new Map<number, number>();
  for (const [client, end] of ends) {
    if (end <= Y.getState(doc.store, client)) continue;
    // Many fresh client ids inserting at one spot make Yjs order them pairwise (quadratic time).
    // A real tablet brings one per page load; an attacker brings thousands.
    if (Y.getState(doc.store, client) === 0 && ++newClients > MAX_NEW_CLIENTS_PER_UPDATE) {
      result.wholeRefusal = `The update carries edits from more than ${MAX_NEW_CLIENTS_PER_UPDATE} new editing sessions at once; it was not applied`;
      return result;
    }
    const bad = ctx.checkAuthor(client);
    if (bad) {
      if (foreign.size === 0) result.refusals.push({ path: '(update)', reason: bad, tried: null });
      foreign.set(client, Number.MAX_SAFE_INTEGER);
      continue;
    }
    result.authors.add(client);
  }
  let updates = batch;
  if (foreign.size) {
    // Structs under another person's client id that the server does not have are dropped from the
    // message and the rest is judged as usual: a forger gets nothing in, and someone whose device
    // still holds a colleague's edits the server lost (a power cut) keeps their own work. The
    // colleague's own device sends those edits again.
    try {
      const beyond = Y.encodeStateVector(foreign);
      // Deletions may be the colleague's too: a delete set names whose items were deleted, never who
      // deleted them. Judged as the sender's, a colleague's overwrite of a vital sign was refused
      // and the old value written back (beating the colleague's own resend), or applied, losing the
      // saved value when that resend never came; and deletions of the dropped items could never
      // apply, which refused everything else with them. So only deletions of the sender's own items
      // are applied now. The rest are neither applied nor refused: the colleague's device sends its
      // own, and the sender's device sends the whole delete set again whenever it syncs.
      const kept: number[] = [];
      const own = (client: number): boolean => result.authors.has(client) || ctx.isOwn(client);
      updates = batch.map((u) => keepDeletions(Y.diffUpdate(u, beyond), own, kept));
      totals.deletes = kept;
      totals.deleted = 0;
      for (let i = 2; i < kept.length; i += 3) totals.deleted += kept[i]!;
    } catch (e) {
      result.wholeRefusal = `The update could not be read (${e instanceof Error ? e.message : String(e)})`;
      result.malformed = true;
      return result;
    }
  }

  // Only updates that create shared types can nest them.
  if (totals.types && deepestNesting(updates, doc.store) > MAX_NESTING) {
    result.wholeRefusal = `The update nests parts of the record more than ${MAX_NESTING} levels deep; it was not applied`;
    return result;
  }
  if (ctx.enforce && totals.deletes.length > 0 && refusedDeletions(totals.deletes, doc, ctx.role, totals.deleted) > MAX_REFUSED_DELETIONS) {
    result.wholeRefusal = `The update deletes more than ${MAX_REFUSED_DELETIONS} pieces of parts of the record a ${ROLE_LABELS[ctx.role].toLowerCase()} may not change; it was not applied`;
    return result;
  }

  doc.transact((tr) => {
    try {
      for (const update of updates) Y.applyUpdate(doc, update, origin);
    } catch (e) {
      result.wholeRefusal = `The update could not be read (${e instanceof Error ? e.message : String(e)})`;
      result.malformed = true;
    }
    const store = doc.store;
    if (store.pendingStructs !== null || store.pendingDs !== null) {
      store.pendingStructs = null;
      store.pendingDs = null;
      result.held = true;
      if (foreign.size === 0) result.wholeRefusal ??= 'The update depends on changes the server does not have; it was not applied';
      else {
        // Built on a colleague's changes the server does not have (dropped above): what does not
        // depend on them is judged as usual, instead of being refused and deleted with the rest.
        result.refusals.push({ path: '(update)', reason: PENDING_ON_COLLEAGUE, tried: null });
      }
    }

    const flags = { collected: false };
    const inserted = insertedItems(tr, flags);
    const bad = malformedItem(doc.store, inserted);
    if (bad) {
      result.wholeRefusal = `The update could not be read (${bad})`;
      result.malformed = true;
    }
    // Several messages, or content that arrived already collected: store and send what Yjs encodes
    // for the whole transaction rather than the sender's bytes.
    const capture = flags.collected || updates.length > 1;
    const deleted = deletedItems(tr);
    // Structs that integrate as already-collected (GC) still advance the state: they must be saved
    // and passed on, or later edits from that client would wait for them for ever.
    result.changed = inserted.length > 0 || deleted.length > 0 || stateAdvanced(tr);
    // Only a transaction that changed something emits an update; a listener left for one that did
    // not would catch the next transaction's.
    if (capture && result.changed) doc.once('update', captureNet);
    if (inserted.length === 0 && deleted.length === 0) return;
    const { changes, previous } = readChanges(tr, inserted, deleted);

    const refused = new Map<Change, string>();
    for (const c of changes) {
      let reason: string | null = result.wholeRefusal;
      if (!reason && ctx.enforce) {
        reason = judge(c, {
          tr, role: ctx.role, lockedBy: ctx.lockedBy,
          previousValue: (ch) => {
            const p = previous(ch);
            return p ? valueOf(p) : null;
          },
        });
      }
      if (reason) refused.set(c, reason);
    }

    // A change inside a refused new type goes with it.
    const refusedTypes = new Set<Y.AbstractType<any>>();
    for (const [c] of refused) if (c.op === 'insert' && c.item.content instanceof Y.ContentType) refusedTypes.add(c.item.content.type);
    if (refusedTypes.size) {
      for (const c of changes) {
        if (refused.has(c) || c.op !== 'insert') continue;
        for (let t: Y.AbstractType<any> | null = c.item.parent as Y.AbstractType<any>; t; t = t._item ? (t._item.parent as Y.AbstractType<any>) : null) {
          if (refusedTypes.has(t)) {
            refused.set(c, 'It was inside a part that was refused');
            break;
          }
        }
      }
    }

    const view: TxView = { tr, changes, previous };
    const byField = groupByField(changes);
    // Overwriting a map key is an insert plus the deletion of the old value: refuse both or neither.
    for (const list of byField.values()) {
      const bad = list.find((c) => refused.has(c));
      if (!bad || list[0]!.item.parentSub === null || list[0]!.nested) continue;
      for (const c of list) if (!refused.has(c)) refused.set(c, refused.get(bad)!);
    }
    // Field rows and conflicts, read now while deleted content is still there.
    fieldRows(view, byField, refused, result);

    if (refused.size === 0) return;
    if (!capture) doc.once('update', captureNet);
    const refusedInserts: Y.Item[] = [];
    const refusedDeletes: Y.Item[] = [];
    for (const [c] of refused) (c.op === 'insert' ? refusedInserts : refusedDeletes).push(c.item);
    // Children before parents, as Yjs deletes.
    for (let i = refusedInserts.length - 1; i >= 0; i--) {
      const it = refusedInserts[i]!;
      if (!it.deleted) it.delete(tr);
    }
    result.restored = refusedInserts.length;
    if (refusedDeletes.length) {
      result.restored += refusedDeletes.length;
      restorer = new Restorer(doc, origin, refusedDeletes, refusedInserts);
      // The UndoManager keeps every deleted item it saw; refused new content must not be kept.
      doc.once('afterTransaction', (t: Y.Transaction) => {
        Y.iterateDeletedStructs(t, t.deleteSet, (s) => {
          if (s instanceof Y.Item && isNew(t, s.id)) s.keep = false;
        });
      });
    }
  }, origin);

  if (!result.changed) return result;
  if (netUpdate === null) {
    // Nothing refused: the sender's bytes are exactly what was applied.
    result.updates.push(...updates);
    return result;
  }
  result.updates.push(netUpdate);
  if (restorer !== null) {
    let restored: Uint8Array | null = null;
    const grab = (u: Uint8Array): void => {
      restored = u;
    };
    doc.on('update', grab);
    const ok = (restorer as Restorer).restore();
    doc.off('update', grab);
    if (restored) result.updates.push(restored);
    if (!ok) result.refusals.push({ path: '(record)', reason: 'Some refused deletions could not be restored', tried: null });
  }
  return result;
}
