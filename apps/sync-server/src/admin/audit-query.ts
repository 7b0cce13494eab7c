// Searching the audit trail: filters become one parameterised SQL query, paged by row id so a
// busy record reads page after page without OFFSET scans, and the same filters export as CSV.

import type { DB } from '../storage/db.js';
import type { AuditRow } from '../audit/audit-log.js';
import { nextTurn } from '../next-turn.js';

export interface AuditFilter {
  patientId?: string;
  /** Username. */
  user?: string;
  /** Path prefix; `*` matches any run of characters (e.g. `visits/*\/triage/category`). */
  path?: string;
  action?: string;
  outcome?: string;
  /** ISO times, inclusive. */
  from?: string;
  to?: string;
}

export interface AuditPage {
  rows: AuditRow[];
  /** Pass as `cursor` to read the next page; null at the end. */
  nextCursor: number | null;
  total: number;
}

/** SQL LIKE pattern for a path prefix: our `*` is a wildcard, SQL's own wildcards are literal. */
export function likePrefix(path: string): string {
  return `${path.replace(/[\\%_]/g, (m) => `\\${m}`).replace(/\*/g, '%')}%`;
}

function where(f: AuditFilter): { sql: string; args: (string | number)[] } {
  const parts: string[] = [];
  const args: (string | number)[] = [];
  if (f.patientId) (parts.push('patient_id = ?'), args.push(f.patientId));
  if (f.user) (parts.push('username = ?'), args.push(f.user));
  if (f.path) (parts.push("path LIKE ? ESCAPE '\\'"), args.push(likePrefix(f.path)));
  if (f.action) (parts.push('action = ?'), args.push(f.action));
  if (f.outcome) (parts.push('outcome = ?'), args.push(f.outcome));
  if (f.from) (parts.push('at >= ?'), args.push(f.from));
  if (f.to) (parts.push('at <= ?'), args.push(f.to));
  return { sql: parts.length ? parts.join(' AND ') : '1', args };
}

/**
 * Ids one step of a search reads through the table's own key when no index narrows the rows. The
 * audit trail has no index on time, action, outcome or path (every accepted edit writes a row, and
 * each index would cost a page write per edit), so such a search reads rows until its page is full,
 * and its count reads them all: in one query, at 5 million rows, 0.5-0.9 s with every room waiting.
 * In steps of 5,000 ids, the loop gets its turn every few milliseconds.
 */
export const AUDIT_WINDOW = 5000;

export async function searchAudit(
  db: DB, f: AuditFilter, page: { limit: number; cursor?: number; order: 'asc' | 'desc' }, window = AUDIT_WINDOW,
): Promise<AuditPage> {
  const w = where(f);
  const order = page.order.toUpperCase();
  let rows: AuditRow[];
  let total: number;
  if (f.patientId || f.user) {
    // Its index narrows the rows to one patient's or one person's history: a query each.
    const cmp = page.order === 'asc' ? '>' : '<';
    const cursorSql = page.cursor !== undefined ? ` AND id ${cmp} ?` : '';
    const args = page.cursor !== undefined ? [...w.args, page.cursor] : w.args;
    rows = db.prepare(`SELECT * FROM audit WHERE ${w.sql}${cursorSql} ORDER BY id ${order} LIMIT ?`).all(...args, page.limit + 1) as AuditRow[];
    total = (db.prepare(`SELECT count(*) AS c FROM audit WHERE ${w.sql}`).get(...w.args) as { c: number }).c;
  } else {
    const last = (db.prepare('SELECT coalesce(max(id), 0) AS m FROM audit').get() as { m: number }).m;
    const inWindow = db.prepare(`SELECT * FROM audit WHERE ${w.sql} AND id BETWEEN ? AND ? ORDER BY id ${order} LIMIT ?`);
    rows = [];
    const want = page.limit + 1;
    // Windows of ids in the order asked for, from the cursor, until the page (and one more) is found.
    const windows: [number, number][] = [];
    if (page.order === 'desc') {
      for (let hi = page.cursor !== undefined ? Math.min(page.cursor - 1, last) : last; hi >= 1; hi -= window) windows.push([Math.max(1, hi - window + 1), hi]);
    } else {
      for (let lo = page.cursor !== undefined ? page.cursor + 1 : 1; lo <= last; lo += window) windows.push([lo, Math.min(last, lo + window - 1)]);
    }
    for (let i = 0; i < windows.length && rows.length < want; i++) {
      if (i > 0) await nextTurn();
      rows.push(...(inWindow.all(...w.args, windows[i]![0], windows[i]![1], want - rows.length) as AuditRow[]));
    }
    // Ids are dense (verify checks it): without a filter the last id is the count.
    total = w.args.length === 0 ? last : await countInSteps(db, w, last, window);
  }
  const more = rows.length > page.limit;
  if (more) rows.pop();
  return { rows, nextCursor: more ? rows[rows.length - 1]!.id : null, total };
}

async function countInSteps(db: DB, w: { sql: string; args: (string | number)[] }, last: number, window: number): Promise<number> {
  const count = db.prepare(`SELECT count(*) AS c FROM audit WHERE ${w.sql} AND id BETWEEN ? AND ?`);
  let total = 0;
  for (let lo = 1; lo <= last; lo += window) {
    await nextTurn();
    total += (count.get(...w.args, lo, Math.min(last, lo + window - 1)) as { c: number }).c;
  }
  return total;
}

const CSV_COLUMNS: (keyof AuditRow)[] = [
  'id', 'at', 'user_id', 'username', 'role', 'device', 'ip', 'user_agent', 'patient_id', 'visit_id', 'action',
  'path', 'old_value', 'new_value', 'outcome', 'detail', 'prev_hash', 'hash',
];

/**
 * RFC 4180 quoting. A cell that a spreadsheet would run as a formula (leading = @, or + - not followed
 * by a digit) gets a leading apostrophe; numbers and phone numbers stay as they are.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=@\t\r]/.test(s) || /^[+-](?![\d.])/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Every matching row as CSV, oldest first, at most 1000 rows and `window` ids per chunk (an empty
 * string for a stretch without matches: the caller gives the loop its turn and asks for more). Each
 * chunk is read in one synchronous query: an open SQLite iterator would keep the connection busy while
 * the response streams, and the commit queue could not write. Rows committed during the export are
 * left out: it covers the trail up to when it started.
 */
export function* auditCsv(db: DB, f: AuditFilter, window = AUDIT_WINDOW): Generator<string> {
  const w = where(f);
  const indexed = Boolean(f.patientId || f.user);
  const last = (db.prepare('SELECT coalesce(max(id), 0) AS m FROM audit').get() as { m: number }).m;
  const stmt = db.prepare(`SELECT * FROM audit WHERE ${w.sql} AND id > ? AND id <= ? ORDER BY id LIMIT 1000`);
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let after = 0;
  while (after < last) {
    // Its index finds one patient's or person's rows however far apart they are.
    const upTo = indexed ? last : Math.min(last, after + window);
    const rows = stmt.all(...w.args, after, upTo) as AuditRow[];
    after = rows.length === 1000 ? rows[rows.length - 1]!.id : upTo;
    yield rows.map((row) => `${CSV_COLUMNS.map((k) => csvCell(row[k])).join(',')}\r\n`).join('');
  }
}
