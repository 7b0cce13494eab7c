// Searching the audit trail: filters become one parameterised SQL query, paged by row id so a
// busy record reads page after page without OFFSET scans, and the same filters export as CSV.

import type { DB } from '../storage/db.js';
import type { AuditRow } from '../audit/audit-log.js';

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

export function searchAudit(db: DB, f: AuditFilter, page: { limit: number; cursor?: number; order: 'asc' | 'desc' }): AuditPage {
  const w = where(f);
  const cmp = page.order === 'asc' ? '>' : '<';
  const cursorSql = page.cursor !== undefined ? ` AND id ${cmp} ?` : '';
  const args = page.cursor !== undefined ? [...w.args, page.cursor] : w.args;
  const rows = db
    .prepare(`SELECT * FROM audit WHERE ${w.sql}${cursorSql} ORDER BY id ${page.order.toUpperCase()} LIMIT ?`)
    .all(...args, page.limit + 1) as AuditRow[];
  const more = rows.length > page.limit;
  if (more) rows.pop();
  const total = (db.prepare(`SELECT count(*) AS c FROM audit WHERE ${w.sql}`).get(...w.args) as { c: number }).c;
  return { rows, nextCursor: more ? rows[rows.length - 1]!.id : null, total };
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
 * Every matching row as CSV, oldest first, in chunks of 1000 rows. Each chunk is read in one
 * synchronous query: an open SQLite iterator would keep the connection busy while the response
 * streams, and the commit queue could not write.
 */
export function* auditCsv(db: DB, f: AuditFilter): Generator<string> {
  const w = where(f);
  const stmt = db.prepare(`SELECT * FROM audit WHERE ${w.sql} AND id > ? ORDER BY id LIMIT 1000`);
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let last = 0;
  for (;;) {
    const rows = stmt.all(...w.args, last) as AuditRow[];
    if (rows.length === 0) return;
    last = rows[rows.length - 1]!.id;
    yield rows.map((row) => `${CSV_COLUMNS.map((k) => csvCell(row[k])).join(',')}\r\n`).join('');
  }
}
