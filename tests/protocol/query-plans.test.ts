// What the server reads for routine requests: the day board, notifications, registration's
// duplicate check, the patient list and signing a person out everywhere each go through an index,
// so their cost follows what they show, not how many visits, notifications and logins the clinic
// has had. The plans are SQLite's own (EXPLAIN QUERY PLAN) for the statements each request ran,
// with the arguments it ran them with, on a real server.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { api, login, testServer } from '../helpers/server.js';
import type { RunningServer } from '../../apps/sync-server/src/index.js';

/** Tables that grow with every visit, hand-off, notification, login and edit. */
const GROWING = /^(SCAN|SEARCH) (patients|assignments|notifications|sessions|audit)\b/;

interface Ran { sql: string; args: unknown[] }

/** Runs `fn` and returns every statement prepared and run meanwhile on `db`, with its arguments. */
async function statementsDuring(db: Database.Database, fn: () => Promise<unknown> | unknown): Promise<Ran[]> {
  const ran: Ran[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const st = prepare(sql) as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['get', 'all', 'run', 'iterate']) {
      const call = st[m]!.bind(st);
      st[m] = (...args: unknown[]) => {
        ran.push({ sql, args });
        return call(...args);
      };
    }
    return st;
  }) as unknown as typeof db.prepare;
  try {
    await fn();
  } finally {
    db.prepare = prepare;
  }
  return ran;
}

const planOf = (db: Database.Database, { sql, args }: Ran): string[] =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);

/**
 * Plan lines that read a growing table whole: a SCAN of it, unless the statement stops after its
 * LIMIT while reading an index in the order asked for (no sort of everything first).
 */
function wholeTableReads(db: Database.Database, ran: Ran[]): string[] {
  const out: string[] = [];
  for (const { sql, args } of ran) {
    const plan = planOf(db, { sql, args });
    const stopsAtLimit = /\bLIMIT\b/i.test(sql) && !plan.some((d) => /TEMP B-TREE FOR ORDER BY/.test(d));
    for (const d of plan) {
      const m = GROWING.exec(d);
      if (m && m[1] === 'SCAN' && !stopsAtLimit) out.push(`${d}  <=  ${sql.replace(/\s+/g, ' ').trim()}`);
    }
  }
  return out;
}

describe('routine requests read through indexes', () => {
  let srv: RunningServer;
  let db: Database.Database;
  beforeAll(async () => {
    srv = await testServer();
    db = srv.ctx.db;
  });
  afterAll(() => srv.close());

  it('checks that it sees what a request runs: a query reading a whole table is caught', async () => {
    const ran = await statementsDuring(db, () => db.prepare('SELECT count(*) AS n FROM patients WHERE sex = ?').get('female'));
    expect(ran).toEqual([{ sql: 'SELECT count(*) AS n FROM patients WHERE sex = ?', args: ['female'] }]);
    expect(wholeTableReads(db, ran)).toHaveLength(1);
  });

  it('the day board, the worklist and a person\'s notifications', async () => {
    const nurse = await login(srv.url, 'nurse');
    for (const [method, path] of [
      ['GET', '/api/board'], ['GET', '/api/worklist'], ['GET', '/api/notifications'], ['GET', '/api/notifications?unread=1'],
      ['POST', '/api/notifications/read-all'],
    ] as const) {
      let status = 0;
      const ran = await statementsDuring(db, async () => (status = (await api(srv.url, nurse, method, path)).status));
      expect(status, path).toBe(200);
      expect(ran.length, path).toBeGreaterThan(0);
      expect(wholeTableReads(db, ran), path).toEqual([]);
      // A search through an index can still read nearly everything: every step ever completed, or
      // every notification a person ever had. These go through the narrow ones.
      for (const r of ran) {
        if (/ended_at >= \?/.test(r.sql)) expect(planOf(db, r).join(' | '), r.sql).toMatch(/USING INDEX assignments_ended/);
        if (/FROM notifications WHERE user_id = \? AND read_at IS NULL/.test(r.sql) || /^UPDATE notifications .* read_at IS NULL/.test(r.sql)) {
          expect(planOf(db, r).join(' | '), r.sql).toMatch(/USING INDEX notifications_unread/);
        }
      }
    }
  });

  it('registering a patient (with its duplicate check) and the patient list', async () => {
    const reception = await login(srv.url, 'reception');
    const body = { firstName: 'Amina', lastName: 'Wanjiru', sex: 'female', dateOfBirth: '1990-03-04', phone: '+254 700 111 222' };
    let status = 0;
    let ran = await statementsDuring(db, async () => (status = (await api(srv.url, reception, 'POST', '/api/patients', body)).status));
    expect(status).toBe(201);
    expect(ran.some((r) => /date_of_birth = \?/.test(r.sql))).toBe(true);
    expect(wholeTableReads(db, ran)).toEqual([]);
    // The same person again is found by the check, through its index.
    ran = await statementsDuring(db, async () => (status = (await api(srv.url, reception, 'POST', '/api/patients', body)).status));
    expect(status).toBe(409);
    expect(wholeTableReads(db, ran)).toEqual([]);
    for (const path of ['/api/patients', '/api/patients?q=Wanjiru', '/api/patients?q=700111']) {
      let found: { id: string }[] = [];
      ran = await statementsDuring(db, async () => {
        const r = await api<{ id: string }[]>(srv.url, reception, 'GET', path);
        status = r.status;
        found = r.body;
      });
      expect(status, path).toBe(200);
      expect(found.length, path).toBeGreaterThan(0);
      expect(wholeTableReads(db, ran), path).toEqual([]);
    }
  });

  it('a one- or two-character search of a long list, in steps that each read through an index', async () => {
    // More patients than the first step reads (SHORT_SEARCH_WINDOW), so the older rest is read in steps.
    db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
      INSERT INTO patients (id, op_number, first_name, last_name, sex, date_of_birth, phone, visit_opened_at, updated_at)
      SELECT 'bulk' || i, 'OP-2020-' || printf('%06d', i), 'Grace', 'Kamau', 'female', '1990-01-01', '', printf('2020-01-01T00:00:%05dZ', i), 'x' FROM n`);
    const reception = await login(srv.url, 'reception');
    for (const [q, expectFound] of [['qz', false], ['gr', true]] as const) {
      let found: unknown[] = [];
      const ran = await statementsDuring(db, async () => (found = (await api<unknown[]>(srv.url, reception, 'GET', `/api/patients?q=${q}`)).body));
      expect(found.length > 0, q).toBe(expectFound);
      expect(wholeTableReads(db, ran), q).toEqual([]);
      // The rare term went past the first step: rowid windows, then the page from their matches.
      if (!expectFound) expect(ran.filter((r) => /rowid > @from AND rowid <= @to/.test(r.sql)).length, q).toBeGreaterThanOrEqual(2);
    }
  });

  it('signing a person out on every device', async () => {
    await login(srv.url, 'lab');
    const lab = db.prepare("SELECT id FROM users WHERE username = 'lab'").get() as { id: string };
    let revoked: string[] = [];
    const ran = await statementsDuring(db, () => (revoked = srv.ctx.sessions.revokeAllFor(lab.id)));
    expect(revoked.length).toBeGreaterThan(0);
    expect(wholeTableReads(db, ran)).toEqual([]);
  });
});
