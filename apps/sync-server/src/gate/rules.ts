// Decides each change: may this role write this unit, and does the value fit the schema?
// Returns a reason a person understands, or null when the change is allowed.

import * as Y from 'yjs';
import {
  MAX_TEXT_LENGTH, VISIT_SECTIONS, checkValue, fieldSpecOf, isVisitSection, mapSpecOf, notJsonData, textSize,
  type VisitStatus,
} from '@pamoja/schema';
import { canTransition, canWriteKind, refusalReason, ROLE_LABELS, UNIT_LABELS, type Role } from '@pamoja/permissions';
import { isNew, valueOf, type Change } from './changes.js';

const ID_KEY = /^[A-Za-z0-9_-]{1,64}$/;

export interface RuleContext {
  tr: Y.Transaction;
  role: Role;
  /** The value a field showed before this update (for workflow transitions). */
  previousValue: (change: Change) => unknown;
  /** Another user's lock on this field or unit, if any. */
  lockedBy: (fieldPath: string, unitPath: string) => string | null;
}

function sectionTypeMatches(section: keyof typeof VISIT_SECTIONS, content: Y.Item["content"]): boolean {
  if (!(content instanceof Y.ContentType)) return false;
  const t = content.type;
  const kind = VISIT_SECTIONS[section];
  if (kind === 'map') return t instanceof Y.Map;
  if (kind === 'text') return t instanceof Y.Text;
  return t instanceof Y.XmlFragment && !(t instanceof Y.XmlElement);
}

/**
 * Sizes of text and notes sections after a transaction, worked out once per section and transaction:
 * every change in it is judged against the same size, and an update of many pieces (a paste, a crafted
 * message) would otherwise count the whole section once per piece.
 */
const sizes = new WeakMap<Y.Transaction, Map<Y.AbstractType<any>, number>>();

function sizeAfter(tr: Y.Transaction, section: Y.AbstractType<any>): number {
  let known = sizes.get(tr);
  if (!known) sizes.set(tr, (known = new Map()));
  let n = known.get(section);
  if (n === undefined) {
    n = textSize(section, MAX_TEXT_LENGTH);
    known.set(section, n);
  }
  return n;
}

/** The visit section a change inside it belongs to: the type two levels below the `visits` root. */
function sectionOfItem(item: Y.Item): Y.AbstractType<any> {
  const chain: Y.AbstractType<any>[] = [];
  for (let t: Y.AbstractType<any> | null = item.parent as Y.AbstractType<any>; t !== null; t = t._item ? (t._item.parent as Y.AbstractType<any>) : null) {
    chain.push(t);
  }
  return chain[chain.length - 3] ?? (item.parent as Y.AbstractType<any>);
}

/** Why a formatting or attribute value is not plain data, or null. */
function oddValue(content: Y.Item['content']): string | null {
  if (content instanceof Y.ContentFormat) return content.value === null ? null : notJsonData(content.value);
  if (content instanceof Y.ContentAny) {
    for (const v of content.getContent()) {
      const odd = notJsonData(v);
      if (odd) return odd;
    }
  }
  if (content instanceof Y.ContentEmbed) return notJsonData(content.embed);
  return null;
}

/** Whether map key `key` has a value after this transaction. */
function holdsValue(map: Y.Map<unknown>, key: string): boolean {
  const last = map._map.get(key);
  return last !== undefined && !last.deleted;
}

export function judge(change: Change, ctx: RuleContext): string | null {
  const { unit, item, field } = change;
  if (!unit) return 'This part of the document is not part of a patient record';
  if (!canWriteKind(ctx.role, unit.kind)) return refusalReason(ctx.role, unit.kind);
  if (item.content instanceof Y.ContentDoc) return 'Embedded documents are not allowed in a record';
  // Made and deleted again before it was sent (a value overwritten offline, a letter typed and
  // rubbed out): it arrives with its content gone, and there is nothing in it to judge. Refused, an
  // honest offline shift drew a refusal for each, and past a few thousand was cut off.
  if (change.op === 'insert' && item.content instanceof Y.ContentDeleted) return null;

  const locker = ctx.lockedBy(change.path, unit.path);
  if (locker) {
    const what = field && mapSpecOf(unit.kind)?.keys ? field : UNIT_LABELS[unit.kind];
    return `${locker} is editing ${what} (locked); your change was undone`;
  }

  if (change.op === 'delete') {
    if (unit.kind === 'visits' || unit.kind === 'visits/*') return 'Visits and their sections are never deleted';
    // Overwriting the status deletes the value before; removing it outright would be a move to
    // "nothing" that no transition allows, after which any step could follow.
    if (unit.kind === 'visits/*/workflow' && field === 'status' && !change.nested && !holdsValue(item.parent as Y.Map<unknown>, field)) {
      return 'A visit\'s status moves from step to step; it cannot be removed';
    }
    return null;
  }
  return shapeOfInsert(change, ctx);
}

function shapeOfInsert(change: Change, ctx: RuleContext): string | null {
  const { unit, item, field, nested } = change;
  if (!unit) return 'unknown unit';
  const content = item.content;

  if (unit.kind === 'visits') {
    if (!field || !ID_KEY.test(field)) return 'A visit id must be 1-64 letters, digits, - or _';
    if (!(content instanceof Y.ContentType && content.type instanceof Y.Map)) return 'A visit must be a map of sections';
    for (let l = item.left; l !== null; l = l.left) if (!isNew(ctx.tr, l.id)) return 'An existing visit cannot be replaced';
    return null;
  }
  if (unit.kind === 'visits/*') {
    const visitItem = (item.parent as Y.AbstractType<any>)._item;
    if (!visitItem || !isNew(ctx.tr, visitItem.id)) return 'The sections of a visit are created with the visit';
    if (!field || !isVisitSection(field)) return `"${field}" is not a section of a visit`;
    if (!sectionTypeMatches(field, content)) return `The ${field} section has the wrong type`;
    return null;
  }

  const spec = mapSpecOf(unit.kind);
  if (spec) {
    if (nested) return 'Fields of this section hold plain values only';
    if (!field) return 'This section is a map of fields';
    if (item.deleted && !(content instanceof Y.ContentAny)) return null; // superseded within the same update
    if (!(content instanceof Y.ContentAny) || content.getLength() !== 1) return `${field} must be a plain value`;
    const value = valueOf(item);
    if (spec.keys) {
      const fspec = fieldSpecOf(spec, field);
      if (!fspec) return `"${field}" is not a field of ${unit.kind.split('/').pop()}`;
      if (value === null) return null;
      const bad = checkValue(fspec, value, field);
      if (bad) return bad;
    } else if (spec.entries) {
      if (!ID_KEY.test(field)) return 'Entry ids must be 1-64 letters, digits, - or _';
      const bad = checkValue(spec.entries, value, 'entry');
      if (bad) return bad;
      const parent = item.parent as Y.Map<unknown>;
      if (spec.maxEntries && parent.size > spec.maxEntries) return `No more than ${spec.maxEntries} entries`;
    }
    if (unit.kind === 'visits/*/workflow' && field === 'status') {
      const from = (ctx.previousValue(change) ?? null) as VisitStatus | null;
      const to = value as VisitStatus;
      if (from !== to && !canTransition(ctx.role, from, to)) {
        return `A ${ROLE_LABELS[ctx.role].toLowerCase()} cannot move a visit from ${from ?? 'nothing'} to ${to}`;
      }
      if (from !== to && to === 'LAB') {
        const visit = (item.parent as Y.Map<unknown>)._item?.parent as Y.Map<unknown> | undefined;
        const orders = visit?.get('labOrders');
        if (!(orders instanceof Y.Map) || orders.size === 0) return 'A visit goes to the lab only when a lab test is ordered';
      }
    }
    return null;
  }

  // Text units: plain text with formatting; notes: rich text (XML elements, text, attributes).
  const kind = unit.section ? VISIT_SECTIONS[unit.section] : null;
  if (kind === 'text') {
    if (nested || !(content instanceof Y.ContentString || content instanceof Y.ContentFormat)) {
      return 'The assessment holds text only';
    }
    const odd = oddValue(content);
    if (odd) return `Formatting holds plain values only, not ${odd}`;
    if (sizeAfter(ctx.tr, item.parent as Y.Text) > MAX_TEXT_LENGTH) return `Text is limited to ${MAX_TEXT_LENGTH} characters, formatting included`;
    return null;
  }
  if (kind === 'xml') {
    const ok =
      content instanceof Y.ContentString || content instanceof Y.ContentFormat || content instanceof Y.ContentAny ||
      content instanceof Y.ContentEmbed ||
      (content instanceof Y.ContentType && (content.type instanceof Y.XmlElement || content.type instanceof Y.XmlText));
    if (!ok) return 'Notes hold rich text only';
    const odd = oddValue(content);
    if (odd) return `Attributes and formatting in notes hold plain values only, not ${odd}`;
    if (sizeAfter(ctx.tr, sectionOfItem(item)) > MAX_TEXT_LENGTH) {
      return `Notes are limited to ${MAX_TEXT_LENGTH} characters, formatting and attributes included`;
    }
    return null;
  }
  return 'This part of the record cannot be written';
}
