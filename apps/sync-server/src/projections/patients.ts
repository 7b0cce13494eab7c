// The patient list: one row per patient, kept current from the documents, for lists and search.

import type * as Y from 'yjs';
import { summarize, type PatientRow, type PatientSummary } from '@pamoja/schema';
import type { DB } from '../storage/db.js';
import type { CommitQueue } from '../storage/commit-queue.js';
import { nextTurn } from '../next-turn.js';

export type { PatientRow };

interface Row {
  id: string; op_number: string; first_name: string; last_name: string; sex: string; date_of_birth: string;
  phone: string; visit_id: string | null; visit_status: string | null; triage_category: string | null;
  visit_opened_at: string | null;
}

const toRow = (r: Row): PatientRow => ({
  id: r.id, opNumber: r.op_number, firstName: r.first_name, lastName: r.last_name, sex: r.sex,
  dateOfBirth: r.date_of_birth, phone: r.phone, visitId: r.visit_id, visitStatus: r.visit_status,
  triageCategory: r.triage_category, visitOpenedAt: r.visit_opened_at,
});

/** The list's order, and the key it starts with (newest visit first; patients without one last). */
const KEY = "coalesce(visit_opened_at, '')";
const ORDER = `ORDER BY ${KEY} DESC, last_name`;
/** A one- or two-character term: in the name either way round or the OP number. */
const SHORT_MATCH = `(lower(first_name || ' ' || last_name) LIKE @like ESCAPE '\\'
  OR lower(last_name || ' ' || first_name) LIKE @like ESCAPE '\\' OR lower(op_number) LIKE @like ESCAPE '\\')`;

/**
 * How far down the list a short search's first query reads, and how many rows of the rest each of its
 * later steps reads. At 50,000 patients a step takes about 3 ms.
 */
export const SHORT_SEARCH_WINDOW = 5000;

export class PatientProjection {
  private readonly upsert: import('better-sqlite3').Statement<unknown[]>;

  constructor(private readonly db: DB, private readonly queue: CommitQueue) {
    this.upsert = db.prepare(`
      INSERT INTO patients (id, op_number, first_name, last_name, sex, date_of_birth, phone, visit_id, visit_status,
        triage_category, visit_opened_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET op_number = excluded.op_number, first_name = excluded.first_name,
        last_name = excluded.last_name, sex = excluded.sex, date_of_birth = excluded.date_of_birth,
        phone = excluded.phone, visit_id = excluded.visit_id, visit_status = excluded.visit_status,
        triage_category = excluded.triage_category, visit_opened_at = excluded.visit_opened_at,
        updated_at = excluded.updated_at
      -- Most edits that refresh the row (typing in triage, say) leave what it lists as it was:
      -- rewriting it anyway would write the row and every index on the table again.
      WHERE (op_number, first_name, last_name, sex, date_of_birth, phone, visit_id, visit_status, triage_category, visit_opened_at)
        IS NOT (excluded.op_number, excluded.first_name, excluded.last_name, excluded.sex, excluded.date_of_birth, excluded.phone,
          excluded.visit_id, excluded.visit_status, excluded.triage_category, excluded.visit_opened_at)`);
  }

  /** Re-reads the summary of one document and queues it (commits with the update that caused it). */
  refresh(patientId: string, doc: Y.Doc): PatientSummary | null {
    const s = summarize(patientId, doc);
    if (!s.opNumber) return null; // a record without registration is not listed
    const v = s.currentVisit;
    const args = [s.id, s.opNumber, s.firstName, s.lastName, s.sex, s.dateOfBirth, s.phone, v?.visitId ?? null,
      v?.status ?? null, v?.triageCategory ?? null, v?.openedAt ?? null, new Date().toISOString()];
    this.queue.write(() => {
      try {
        this.upsert.run(...args);
      } catch {
        // A clashing OP number from an offline registration: keep the existing row, the record itself is safe.
      }
    });
    return s;
  }

  /**
   * The list, newest visit first; with `q`, the patients whose name (either way round), OP number or
   * phone digits contain it. Three or more characters go through the trigram index (patients_search);
   * shorter ones in steps (shortSearch).
   */
  async list(q?: string, limit = 200, window = SHORT_SEARCH_WINDOW): Promise<PatientRow[]> {
    // Control characters match no name, and a NUL would end the search text early in SQLite.
    const term = q?.replace(/[\u0000-\u001f\u007f]/g, '').trim().toLowerCase().slice(0, 100) ?? '';
    const digits = term.replace(/\D/g, '');
    if (term.length >= 3) {
      const phrase = (s: string): string => `text : "${s.replace(/"/g, '""')}"`;
      const match = digits.length >= 3 && digits !== term ? `${phrase(term)} OR ${phrase(digits)}` : phrase(term);
      return (this.db.prepare(`
        SELECT * FROM patients WHERE rowid IN (SELECT rowid FROM patients_search WHERE patients_search MATCH @match) ${ORDER} LIMIT @limit`)
        .all({ match, limit }) as Row[]).map(toRow);
    }
    if (term) return (await this.shortSearch(term, limit, window)).map(toRow);
    return (this.db.prepare(`SELECT * FROM patients ${ORDER} LIMIT @limit`).all({ limit }) as Row[]).map(toRow);
  }

  /**
   * One or two characters are too short for the trigram index, so the list itself is read. Most such
   * terms ("a", "ot") fill a page from the newest patients at once. A rare one (say "qz") would read the
   * whole list in one query (about 40 ms at 50,000 patients, with every room waiting), so:
   *   1. the newest `window` patients (and any tied with the last of them) are searched in list order;
   *   2. if the page is not full, the older rest is read `window` rowids per turn of the event loop,
   *      keeping the matches' rowids, and the best of those complete the page, still in list order.
   * Rows changed while the steps run are seen as they are when their step reads them.
   */
  private async shortSearch(term: string, limit: number, window: number): Promise<Row[]> {
    const like = `%${term.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    // The list key of the window-th patient: at or above it are the newest `window` patients.
    const edge = this.db.prepare(`SELECT ${KEY} FROM patients ${ORDER} LIMIT 1 OFFSET @skip`).pluck().get({ skip: window - 1 }) as string | undefined;
    // A short list, or the newest `window` reach the patients without a visit: one query reads it all.
    if (edge === undefined || edge === '') {
      return this.db.prepare(`SELECT * FROM patients WHERE ${SHORT_MATCH} ${ORDER} LIMIT @limit`).all({ like, limit }) as Row[];
    }
    const first = this.db.prepare(`SELECT * FROM patients WHERE ${KEY} >= @edge AND ${SHORT_MATCH} ${ORDER} LIMIT @limit`)
      .all({ edge, like, limit }) as Row[];
    if (first.length >= limit) return first;
    const step = this.db.prepare(`SELECT rowid FROM patients WHERE rowid > @from AND rowid <= @to AND ${KEY} < @edge AND ${SHORT_MATCH}`).pluck();
    const last = (this.db.prepare('SELECT max(rowid) FROM patients').pluck().get() as number | null) ?? 0;
    const older: number[] = [];
    for (let from = 0; from < last; from += window) {
      await nextTurn();
      for (const id of step.all({ from, to: from + window, edge, like }) as number[]) older.push(id);
    }
    if (older.length === 0) return first;
    const rest = this.db.prepare(`SELECT * FROM patients WHERE rowid IN (SELECT value FROM json_each(@ids)) ${ORDER} LIMIT @n`)
      .all({ ids: JSON.stringify(older), n: limit - first.length }) as Row[];
    return [...first, ...rest];
  }

  byId(id: string): PatientRow | null {
    const r = this.db.prepare('SELECT * FROM patients WHERE id = ?').get(id) as Row | undefined;
    return r ? toRow(r) : null;
  }

  /** Next OP number for this year: OP-2026-000123. Runs inside the caller's transaction. */
  nextOpNumber(now = new Date()): string {
    const year = now.getUTCFullYear();
    const row = this.db.prepare(
      'INSERT INTO op_counter (year, last) VALUES (?, 1) ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last',
    ).get(year) as { last: number };
    return `OP-${year}-${String(row.last).padStart(6, '0')}`;
  }
}
