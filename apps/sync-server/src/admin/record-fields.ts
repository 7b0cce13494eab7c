// A patient document flattened into fields by path, written the way the audit writes values, so the
// live record and the audit trail can be compared field by field.

import * as Y from 'yjs';
import { ROOT_UNITS, VISIT_SECTIONS, isVisitSection, parseUnitPath } from '@pamoja/schema';
import { auditText } from '../audit/audit-log.js';

export type FieldKind = 'map' | 'text' | 'notes';

export interface RecordField {
  path: string;
  kind: FieldKind;
  /** As the audit stores values: text as is, anything else as JSON; null when absent. */
  value: string | null;
}

/** Plain text of a Tiptap fragment: paragraphs and other blocks on their own lines. */
export function fragmentText(frag: Y.XmlFragment | Y.XmlElement): string {
  const out: string[] = [];
  for (const child of frag.toArray()) {
    if (child instanceof Y.XmlText) out.push(child.toDelta().map((d: { insert: unknown }) => (typeof d.insert === 'string' ? d.insert : '')).join(''));
    else if (child instanceof Y.XmlElement) out.push(fragmentText(child));
  }
  return out.join('\n');
}

/** Which kind of field a path names: a key of a map unit, a text unit, or a notes unit; null otherwise. */
export function kindOfPath(path: string): FieldKind | null {
  const unit = parseUnitPath(path);
  if (unit?.section) {
    const k = VISIT_SECTIONS[unit.section];
    return k === 'text' ? 'text' : k === 'xml' ? 'notes' : null;
  }
  if (unit) return null;
  const parent = parseUnitPath(path.slice(0, path.lastIndexOf('/')));
  if (!parent || parent.kind === 'visits' || parent.kind === 'visits/*' || parent.kind === 'conflicts') return null;
  return 'map';
}

export function flattenRecord(doc: Y.Doc): { fields: RecordField[]; visitOpenedAt: Map<string, string> } {
  const fields: RecordField[] = [];
  const visitOpenedAt = new Map<string, string>();
  for (const root of ROOT_UNITS) {
    if (root === 'visits' || root === 'conflicts') continue;
    for (const [k, v] of doc.getMap(root).entries()) fields.push({ path: `${root}/${k}`, kind: 'map', value: auditText(plain(v)) });
  }
  for (const [visitId, visit] of doc.getMap<Y.Map<unknown>>('visits').entries()) {
    if (!(visit instanceof Y.Map)) continue;
    for (const [section, type] of visit.entries()) {
      if (!isVisitSection(section)) continue;
      const base = `visits/${visitId}/${section}`;
      if (type instanceof Y.Map) {
        for (const [k, v] of type.entries()) fields.push({ path: `${base}/${k}`, kind: 'map', value: auditText(plain(v)) });
        if (section === 'registration' && typeof type.get('openedAt') === 'string') visitOpenedAt.set(visitId, type.get('openedAt') as string);
      } else if (type instanceof Y.Text) {
        fields.push({ path: base, kind: 'text', value: type.toString() });
      } else if (type instanceof Y.XmlFragment) {
        fields.push({ path: base, kind: 'notes', value: fragmentText(type) });
      }
    }
  }
  return { fields, visitOpenedAt };
}

const plain = (v: unknown): unknown => (v instanceof Y.AbstractType ? v.toJSON() : v);
