// Reads what one transaction changed, item by item, and names the record unit each change falls in.
// Runs inside the transaction, before garbage collection, so deleted content can still be read.

import * as Y from 'yjs';
import { unitFromSegments, type UnitPath } from '@pamoja/schema';

export interface Change {
  op: 'insert' | 'delete';
  item: Y.Item;
  /** The unit the item's parent belongs to; null for parts of the document the schema does not know. */
  unit: UnitPath | null;
  /** The map key within the unit (direct children of a map unit), else null. */
  field: string | null;
  /** True when the item sits inside a nested type of the unit rather than in the unit itself. */
  nested: boolean;
  /** The field's path (`unit/field`), or the unit's when there is no field: audit rows and grouping. */
  path: string;
}

type AnyType = Y.AbstractType<any>;

/** Where a Y type sits in the record: the unit it belongs to, and for a nested type the field holding it. */
interface Location {
  segs: string[];
  unit: UnitPath | null;
  /** How many names below the unit the type is (0: the unit itself). */
  depth: number;
  /** For a nested type: the unit's field that holds it, or null (inside a sequence). */
  inner: string | null;
}

/**
 * A type never moves within its document, so where it sits is worked out once per type, not once per
 * change: every keystroke in a field would otherwise rebuild the same names and unit path. Entries go
 * with their types when a record is unloaded.
 */
const locations = new WeakMap<AnyType, Location>();

function rootName(doc: Y.Doc, type: AnyType): string {
  for (const [name, t] of doc.share) if (t === type) return name;
  return '?';
}

function locationOf(doc: Y.Doc, type: AnyType): Location {
  const hit = locations.get(type);
  if (hit) return hit;
  const item = type._item;
  // Names from the root to `type`: map keys, or `#` for a step through a sequence (array/text/xml).
  const segs = item === null ? [rootName(doc, type)] : [...locationOf(doc, item.parent as AnyType).segs, item.parentSub ?? '#'];
  const { unit, depth } = locate(segs);
  const name = depth > 0 ? segs[segs.length - depth]! : null;
  const loc: Location = { segs, unit, depth, inner: name !== null && name !== '#' ? name : null };
  // A root type not yet in `doc.share` ('?') is named later; only what is settled is kept.
  if (segs[0] !== '?') locations.set(type, loc);
  return loc;
}

function locate(segs: string[]): { unit: UnitPath | null; depth: number } {
  for (let n = Math.min(3, segs.length); n >= 1; n--) {
    const prefix = segs.slice(0, n);
    if (prefix.includes('#')) continue;
    const unit = unitFromSegments(prefix);
    if (unit) return { unit, depth: segs.length - n };
  }
  return { unit: null, depth: 0 };
}

export function describe(doc: Y.Doc, op: Change['op'], item: Y.Item): Change {
  const loc = locationOf(doc, item.parent as AnyType);
  const unit = loc.unit;
  const field = loc.depth === 0 ? item.parentSub : loc.inner;
  const path = !unit ? `(unknown)/${field ?? ''}` : field ? `${unit.path}/${field}` : unit.path;
  return { op, item, unit, field, nested: loc.depth > 0, path };
}

/** Was this struct created by the current transaction? */
export const isNew = (tr: Y.Transaction, id: Y.ID): boolean => id.clock >= (tr.beforeState.get(id.client) ?? 0);

/**
 * Every item added in this transaction, client by client. `collected` is set when some new struct
 * integrated as already garbage-collected (its parent was deleted): the sender's bytes still carry
 * that content, so they must not be stored or passed on as they are.
 */
export function insertedItems(tr: Y.Transaction, flags: { collected: boolean } = { collected: false }): Y.Item[] {
  const out: Y.Item[] = [];
  tr.doc.store.clients.forEach((structs, client) => {
    const before = tr.beforeState.get(client) ?? 0;
    const last = structs[structs.length - 1];
    if (!last || last.id.clock + last.length <= before) return;
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const s = structs[i];
      if (s instanceof Y.Item) out.push(s);
      else if (s instanceof Y.GC) flags.collected = true;
    }
  });
  return out;
}

/** Did any client's clock move (including structs that arrived already garbage-collected)? */
export function stateAdvanced(tr: Y.Transaction): boolean {
  for (const [client, structs] of tr.doc.store.clients) {
    const last = structs[structs.length - 1];
    if (last && last.id.clock + last.length > (tr.beforeState.get(client) ?? 0)) return true;
  }
  return false;
}

/** Every item that existed before this transaction and was deleted by it. */
export function deletedItems(tr: Y.Transaction): Y.Item[] {
  const out: Y.Item[] = [];
  Y.iterateDeletedStructs(tr, tr.deleteSet, (s) => {
    if (s instanceof Y.Item && !isNew(tr, s.id)) out.push(s);
  });
  return out;
}

/** A plain, readable value of an item's content, for audit rows and conflicts. */
export function valueOf(item: Y.Item): unknown {
  const c = item.content;
  if (c instanceof Y.ContentAny || c instanceof Y.ContentJSON) {
    const v = c.getContent();
    return v.length === 1 ? v[0] : v;
  }
  if (c instanceof Y.ContentString) return c.str;
  if (c instanceof Y.ContentType) return `(${c.type.constructor.name})`;
  if (c instanceof Y.ContentDeleted) return null;
  if (c instanceof Y.ContentFormat) return { format: c.key, value: c.value };
  if (c instanceof Y.ContentEmbed) return c.embed;
  return `(${c.constructor.name})`;
}

/**
 * The value a map key showed before this transaction: the rightmost item for the key that existed
 * before it, if that item was still alive then.
 */
export function previousVisible(tr: Y.Transaction, parent: AnyType, key: string, deletedNow: Set<Y.Item>): Y.Item | null {
  let it: Y.Item | null = parent._map.get(key) ?? null;
  while (it !== null && isNew(tr, it.id)) it = it.left;
  if (it === null) return null;
  return !it.deleted || deletedNow.has(it) ? it : null;
}
