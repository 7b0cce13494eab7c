// A record's past, rebuilt from its audit rows: each field's change history, and the value of every
// field as of a past time. Pure: the rows and the current record come in, the history goes out.
//
// How "as of T" works: start from the record as it is now and walk back. A map field changed after T
// had, at T, the old value the first later change replaced (the gate records exact before/after values
// of map fields). A field not changed since T still has its current value. Text and notes units are
// audited as summaries, so their past value is only known when they have not changed since T.

import { jsonText } from '@pamoja/schema';
import type { AuditRow } from '../audit/audit-log.js';
import { kindOfPath, type FieldKind, type RecordField } from './record-fields.js';

export interface FieldChangeView {
  auditId: number;
  at: string;
  username: string | null;
  role: string | null;
  device: string | null;
  action: string;
  outcome: string;
  oldValue: string | null;
  newValue: string | null;
  detail: string | null;
}

export interface FieldAsOf {
  path: string;
  kind: FieldKind;
  value: string | null;
  /** False when the value could not be known exactly (see `note`). */
  exact: boolean;
  note?: string;
  /** The change that set this value, if the audit has it. */
  setAt?: string;
  setBy?: string | null;
}

export interface RecordHistory {
  at: string | null;
  fields: FieldAsOf[];
  changes: { path: string; kind: FieldKind; changes: FieldChangeView[] }[];
}

/** Values longer than this were clipped by the gate before they reached the audit. */
const CLIPPED = /^[\s\S]{500}\u2026$/;

/** Rows that changed a field's value (refusals are history, but changed nothing). */
const changesValue = (c: FieldChangeView): boolean => c.outcome === 'applied' || c.outcome === 'conflict';

/** The audit rows of one patient as per-field changes; a REGISTER row becomes one change per demographic. */
export function fieldChanges(rows: AuditRow[]): Map<string, FieldChangeView[]> {
  const byPath = new Map<string, FieldChangeView[]>();
  const add = (path: string, r: AuditRow, oldValue: string | null, newValue: string | null): void => {
    const view: FieldChangeView = {
      auditId: r.id, at: r.at, username: r.username, role: r.role, device: r.device, action: r.action,
      outcome: r.outcome, oldValue, newValue, detail: r.detail,
    };
    const list = byPath.get(path);
    if (list) list.push(view);
    else byPath.set(path, [view]);
  };
  for (const r of rows) {
    if (r.action === 'REGISTER' && r.new_value) {
      let demo: Record<string, unknown> = {};
      try {
        demo = JSON.parse(r.new_value) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const [k, v] of Object.entries(demo)) {
        if (v !== null && v !== undefined) add(`demographics/${k}`, r, null, typeof v === 'string' ? v : jsonText(v));
      }
    } else if (r.action === 'UPDATE' && r.path && kindOfPath(r.path)) {
      add(r.path, r, r.old_value, r.new_value);
    }
  }
  return byPath;
}

export function buildHistory(
  rows: AuditRow[],
  current: { fields: RecordField[]; visitOpenedAt: Map<string, string> },
  at: string | null,
  pathPrefix = '',
): RecordHistory {
  const changes = fieldChanges(rows);
  const now = new Map(current.fields.map((f) => [f.path, f]));
  const paths = [...new Set([...now.keys(), ...changes.keys()])].filter((p) => p.startsWith(pathPrefix)).sort();
  const registeredAt = rows.find((r) => r.action === 'REGISTER')?.at ?? rows[0]?.at ?? null;
  const fields: FieldAsOf[] = [];

  for (const path of paths) {
    const kind = now.get(path)?.kind ?? kindOfPath(path) ?? 'map';
    const list = (changes.get(path) ?? []).filter(changesValue);
    if (at === null) {
      const last = list[list.length - 1];
      if (!now.has(path)) continue; // deleted since
      fields.push({ path, kind, value: now.get(path)?.value ?? null, exact: true, setAt: last?.at, setBy: last?.username });
      continue;
    }
    if (registeredAt && at < registeredAt) continue;
    const visitId = path.startsWith('visits/') ? path.split('/')[1]! : null;
    const opened = visitId ? current.visitOpenedAt.get(visitId) : undefined;
    if (opened && at < opened) continue;
    const before = list.filter((c) => c.at <= at);
    const after = list.find((c) => c.at > at);
    const setter = before[before.length - 1];
    const base = { path, kind, setAt: setter?.at, setBy: setter?.username };
    if (!after) {
      const value = now.get(path)?.value ?? null;
      fields.push({ ...base, value, exact: true });
    } else if (kind !== 'map') {
      fields.push({ ...base, value: null, exact: false, note: 'Changed since then; the audit holds only summaries of text edits' });
    } else {
      const value = after.oldValue;
      const clipped = value !== null && CLIPPED.test(value);
      fields.push({ ...base, value, exact: !clipped, ...(clipped ? { note: 'Longer than 500 characters; the audit keeps the start' } : {}) });
    }
    if (fields[fields.length - 1]!.value === null && fields[fields.length - 1]!.exact) fields.pop(); // did not exist then
  }

  return {
    at,
    fields,
    changes: paths
      .filter((p) => changes.has(p))
      .map((p) => ({ path: p, kind: now.get(p)?.kind ?? kindOfPath(p) ?? 'map', changes: changes.get(p)! })),
  };
}
