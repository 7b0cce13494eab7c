// The audit search and CSV export in windows of ids: the same rows, order, cursors and counts as
// reading the table in one query, with the event loop getting turns between the windows.

import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { AuditLog, type AuditEntry } from '../../apps/sync-server/src/audit/audit-log.js';
import { auditCsv, searchAudit, type AuditFilter } from '../../apps/sync-server/src/admin/audit-query.js';
import type { Actor } from '../../apps/sync-server/src/gate/actor.js';
import { tempDir } from '../helpers/server.js';
import { turnsDuring } from '../helpers/loop-turns.js';

const person = (username: string) => ({ userId: `u-${username}`, username, name: username, role: 'NURSE', device: 'd', ip: '10.0.0.1', userAgent: 't' }) as unknown as Actor;

function trail(rows: number) {
  const db = openDatabase(tempDir());
  const queue = new CommitQueue(db);
  const audit = new AuditLog(db, queue);
  for (let i = 0; i < rows; i++) {
    const e: AuditEntry = i % 97 === 5
      ? { action: 'EXPORT_TEST', outcome: 'denied', patientId: null, path: null, detail: 'rare' }
      : { action: i % 3 ? 'UPDATE' : 'VIEW', outcome: i % 5 ? 'applied' : 'denied', patientId: `p${i % 4}`, path: i % 2 ? `visits/v${i % 6}/vitals/pulse` : 'demographics/firstName', oldValue: i, newValue: i + 1 };
    audit.record(person(i % 2 ? 'nurse' : 'clinician'), [e]);
    queue.flush();
  }
  return db;
}

/** The same search in one query each, as the reference. */
function reference(db: ReturnType<typeof trail>, f: AuditFilter, page: { limit: number; cursor?: number; order: 'asc' | 'desc' }) {
  const parts: string[] = ['1'];
  const args: unknown[] = [];
  if (f.action) (parts.push('action = ?'), args.push(f.action));
  if (f.outcome) (parts.push('outcome = ?'), args.push(f.outcome));
  if (f.path) (parts.push('path LIKE ?'), args.push(`${f.path}%`));
  if (f.from) (parts.push('at >= ?'), args.push(f.from));
  if (f.user) (parts.push('username = ?'), args.push(f.user));
  const where = parts.join(' AND ');
  const cursor = page.cursor === undefined ? '' : ` AND id ${page.order === 'asc' ? '>' : '<'} ${page.cursor}`;
  const ids = (db.prepare(`SELECT id FROM audit WHERE ${where}${cursor} ORDER BY id ${page.order} LIMIT ?`).all(...args, page.limit) as { id: number }[]).map((r) => r.id);
  const total = (db.prepare(`SELECT count(*) AS c FROM audit WHERE ${where}`).get(...args) as { c: number }).c;
  return { ids, total };
}

describe('audit search in windows', () => {
  it('gives the rows, cursors and counts of one query, page after page', async () => {
    const db = trail(300);
    const filters: AuditFilter[] = [
      {}, { action: 'UPDATE' }, { outcome: 'denied' }, { action: 'EXPORT_TEST' }, { path: 'visits/' },
      { action: 'VIEW', outcome: 'applied' }, { from: (db.prepare('SELECT at FROM audit WHERE id = 150').get() as { at: string }).at },
      { user: 'nurse', action: 'UPDATE' },
    ];
    for (const f of filters) {
      for (const order of ['asc', 'desc'] as const) {
        for (const limit of [1, 7, 50]) {
          // Walk every page with the cursors the search hands out, against the reference.
          let cursor: number | undefined;
          const seen: number[] = [];
          for (let pages = 0; pages < 400; pages++) {
            const got = await searchAudit(db, f, { limit, cursor, order }, 13);
            const want = reference(db, f, { limit, cursor, order });
            const label = JSON.stringify({ f, order, limit, cursor });
            expect(got.rows.map((r) => r.id), label).toEqual(want.ids);
            expect(got.total, label).toBe(want.total);
            seen.push(...got.rows.map((r) => r.id));
            if (got.nextCursor === null) break;
            expect(got.nextCursor, label).toBe(got.rows.at(-1)!.id);
            cursor = got.nextCursor;
          }
          expect(seen.length, JSON.stringify({ f, order, limit })).toBe(reference(db, f, { limit: 100_000, order }).total);
        }
      }
    }
    db.close();
  });

  it('gives the event loop turns while it looks for rare rows', async () => {
    const db = trail(300);
    const { result: got, turns } = await turnsDuring(() => searchAudit(db, { action: 'EXPORT_TEST' }, { limit: 100, order: 'desc' }, 10));
    expect(got.rows.map((r) => r.detail)).toEqual(['rare', 'rare', 'rare', 'rare']);
    expect(got.total).toBe(4);
    // 30 windows for the page and 30 for the count: the loop ran between them.
    expect(turns).toBeGreaterThanOrEqual(50);
    db.close();
  });

  it('exports the same CSV in windows as in one pass', () => {
    const db = trail(300);
    for (const f of [{}, { action: 'EXPORT_TEST' }, { outcome: 'denied' }, { user: 'nurse' }] as AuditFilter[]) {
      const windowed = [...auditCsv(db, f, 11)];
      const whole = [...auditCsv(db, f, 1_000_000)].join('');
      expect(windowed.join(''), JSON.stringify(f)).toBe(whole);
      const lines = whole.trimEnd().split('\r\n');
      expect(lines.length - 1, JSON.stringify(f)).toBe(reference(db, f, { limit: 100_000, order: 'asc' }).total);
      // Stretches without a match come back as empty chunks, each a turn for the server.
      if (f.action === 'EXPORT_TEST') expect(windowed.filter((c) => c === '').length).toBeGreaterThan(10);
    }
    db.close();
  });
});
