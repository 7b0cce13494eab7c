// Field-level reading of a transaction: one row per changed field (old and new value, or a summary
// of text edits), and concurrent overwrites of one field (conflicts). Shared by the gate and by the
// server's own writes, so both audit the same way.

import * as Y from 'yjs';
import { jsonText, notJsonData } from '@pamoja/schema';
import { describe, isNew, previousVisible, valueOf, type Change } from './changes.js';
import type { ConflictFound, FieldChange, Refusal } from './gate.js';

const MAX_AUDIT_TEXT = 500;

export interface TxView {
  tr: Y.Transaction;
  changes: Change[];
  /** The item a map field showed before this transaction. */
  previous: (c: Change) => Y.Item | null;
}

/**
 * A value as audit rows and refusal messages carry it: long text clipped, and what JSON cannot write
 * (a BigInt someone tried, binary data) as text, so that writing the row or the message cannot fail.
 */
export function clip(v: unknown): unknown {
  if (typeof v === 'string') return v.length > MAX_AUDIT_TEXT ? `${v.slice(0, MAX_AUDIT_TEXT)}…` : v;
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || notJsonData(v) === null) return v;
  if (typeof v === 'bigint') return `${v}n`;
  return clip(jsonText(v));
}

/** Names every inserted and deleted item's unit and field, inside the transaction. */
export function readChanges(tr: Y.Transaction, inserted: Y.Item[], deleted: Y.Item[]): Omit<TxView, 'tr'> {
  const doc = tr.doc;
  const changes: Change[] = [];
  for (const it of inserted) changes.push(describe(doc, 'insert', it));
  for (const it of deleted) changes.push(describe(doc, 'delete', it));
  let deletedNow: Set<Y.Item> | null = null;
  const prevCache = new Map<string, Y.Item | null>();
  const previous = (c: Change): Y.Item | null => {
    const key = c.item.parentSub;
    if (key === null) return null;
    let prev = prevCache.get(c.path);
    if (prev === undefined) {
      deletedNow ??= new Set(deleted);
      prev = previousVisible(tr, c.item.parent as Y.AbstractType<any>, key, deletedNow);
      prevCache.set(c.path, prev);
    }
    return prev;
  };
  return { changes, previous };
}

export function groupByField(changes: Change[]): Map<string, Change[]> {
  const byField = new Map<string, Change[]>();
  for (const c of changes) {
    const list = byField.get(c.path);
    if (list) list.push(c);
    else byField.set(c.path, [c]);
  }
  return byField;
}

/** Text inserted and deleted in a text or notes unit, summarised for the audit. */
function textSummary(changes: Change[]): string {
  let ins = '';
  let del = '';
  for (const c of changes) {
    const ct = c.item.content;
    if (!(ct instanceof Y.ContentString)) continue;
    if (c.op === 'insert' && !c.item.deleted) ins += ct.str;
    if (c.op === 'delete') del += ct.str;
  }
  const parts: string[] = [];
  if (ins) parts.push(`inserted "${clip(ins) as string}"`);
  if (del) parts.push(`deleted "${clip(del) as string}"`);
  return parts.join('; ') || 'formatting or structure changed';
}

export interface FieldOutput {
  fields: FieldChange[];
  refusals: Refusal[];
  conflicts: ConflictFound[];
}

export function fieldRows(view: TxView, byField: Map<string, Change[]>, refused: Map<Change, string>, out: FieldOutput): void {
    for (const [path, list] of byField) {
      const first = list[0]!;
      const visitId = first.unit?.visitId ?? null;
      const refusedOne = list.find((c) => refused.has(c));
      const isMapField = first.field !== null && !first.nested && first.item.parentSub !== null;
      if (isMapField) {
        const prev = view.previous(first);
        const news = list.filter((c) => c.op === 'insert');
        const last = news[news.length - 1];
        const oldValue = prev ? valueOf(prev) : null;
        const newValue = last ? valueOf(last.item) : null;
        if (refusedOne) {
          out.refusals.push({ path, reason: refused.get(refusedOne)!, tried: clip(newValue) });
          out.fields.push({ path, visitId, oldValue: clip(oldValue), newValue: clip(newValue), outcome: 'reverted-forbidden', reason: refused.get(refusedOne)! });
          continue;
        }
        const sawPrev = prev === null || news.length === 0 ||
          news.some((c) => c.item.origin !== null && Y.compareIDs(c.item.origin, prev.lastId));
        const differs = typeof oldValue === 'object' || typeof newValue === 'object'
          ? jsonText(oldValue) !== jsonText(newValue)
          : oldValue !== newValue;
        if (!sawPrev && differs && last) {
          const parent = last.item.parent as Y.AbstractType<any>;
          const winnerItem = parent._map.get(last.item.parentSub!);
          out.conflicts.push({
            path, visitId,
            theirs: { value: oldValue, clientId: prev.id.client },
            ours: { value: newValue },
            winner: winnerItem && isNew(view.tr, winnerItem.id) ? 'ours' : 'theirs',
          });
          out.fields.push({ path, visitId, oldValue: clip(oldValue), newValue: clip(newValue), outcome: 'conflict' });
        } else if (differs || news.length === 0) {
          out.fields.push({ path, visitId, oldValue: clip(oldValue), newValue: clip(newValue), outcome: 'applied' });
        }
      } else {
        const summary = textSummary(list);
        if (refusedOne) {
          out.refusals.push({ path, reason: refused.get(refusedOne)!, tried: summary });
          out.fields.push({ path, visitId, oldValue: null, newValue: summary, outcome: 'reverted-forbidden', reason: refused.get(refusedOne)! });
        } else {
          out.fields.push({ path, visitId, oldValue: null, newValue: summary, outcome: 'applied' });
        }
      }
    }

}
