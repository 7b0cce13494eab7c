// Patient search through the trigram index: the same patients a substring match over the name (both
// ways round), OP number and phone digits finds, kept in step as rows change, and a database from
// before the index gets its patients added once.

import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import path from 'node:path';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { PatientProjection } from '../../apps/sync-server/src/projections/patients.js';
import { tempDir } from '../helpers/server.js';
import { turnsDuring } from '../helpers/loop-turns.js';

const FIRST = ['Amina', 'John', 'Grace', 'Njoké', 'Wanjiru', "O'Neil", 'Mary-Anne', 'Zawadi'];
const LAST = ['Otieno', 'Wanjiru', 'Kamau', 'Achieng', 'Mwangi', 'Chebet-Kirui', 'Odhiambo'];

function clinic(dir = tempDir()) {
  const db = openDatabase(dir);
  const insert = db.prepare(`INSERT INTO patients (id, op_number, first_name, last_name, sex, date_of_birth, phone, visit_opened_at, updated_at)
    VALUES (?, ?, ?, ?, 'F', '1990-01-01', ?, ?, 'x')`);
  db.transaction(() => {
    for (let i = 0; i < 120; i++) {
      insert.run(`p${i}`, `OP-2026-${String(i).padStart(6, '0')}`, FIRST[i % FIRST.length]!, LAST[(i * 5) % LAST.length]!,
        i % 4 ? `+254 7${String(i * 7919).padStart(8, '0').slice(0, 2)} ${String(i * 104729).padStart(6, '0').slice(0, 3)}-${String(i).padStart(3, '0')}` : '',
        i % 3 ? new Date(Date.UTC(2026, 0, 1 + i)).toISOString() : null);
    }
  })();
  return { db, patients: new PatientProjection(db, new CommitQueue(db)) };
}

/** The substring match the index stands for, read row by row. */
function expected(db: Database.Database, q: string, limit = 200): string[] {
  const term = q.trim().toLowerCase();
  const digits = term.replace(/\D/g, '');
  const rows = db.prepare("SELECT * FROM patients ORDER BY coalesce(visit_opened_at, '') DESC, last_name").all() as Record<string, string>[];
  return rows.filter((r) => {
    const names = [`${r.first_name} ${r.last_name}`, `${r.last_name} ${r.first_name}`, r.op_number!].map((s) => s.toLowerCase());
    const phone = r.phone!.replace(/[\s+-]/g, '');
    return names.some((s) => s.includes(term)) || (term.length >= 3 && phone.includes(term)) || (digits.length >= 3 && phone.includes(digits));
  }).slice(0, limit).map((r) => r.id!);
}

describe('patient search', () => {
  it('finds what a substring match finds, in the list\'s order', async () => {
    const { db, patients } = clinic();
    for (const q of ['amina', 'AMINA', 'wanjiru', 'anjiru am', 'otieno amina', 'kamau g', 'njoké', "o'ne", 'mary-an', 'chebet-k',
      'op-2026-00001', '000042', '2026', '+254 7', '254 7', '104', 'a"b', 'zz%', '_ca', 'am', 'a', 'ki', 'nobody here']) {
      expect((await patients.list(q)).map((r) => r.id), q).toEqual(expected(db, q));
    }
    expect((await patients.list('a', 5)).map((r) => r.id)).toEqual(expected(db, 'a', 5));
    // Whatever is typed or sent is searched for, never an error: control characters are dropped.
    expect((await patients.list('wanj\u0000iru')).map((r) => r.id)).toEqual(expected(db, 'wanjiru'));
    for (const odd of ['NEAR(amina otieno)', 'text : amina', '^ami', '***', '😀a', 'x'.repeat(5000)]) expect(await patients.list(odd), odd).toEqual([]);
    db.close();
  });

  it('reads the list in steps for one or two characters, with the same answer as one pass', async () => {
    const { db, patients } = clinic();
    // Windows of 1, 7 and 50 patients take the stepped path (the page filled from the newest alone, or
    // completed from the older rest); 100 reaches the patients without a visit and 5,000 the whole
    // list, which are read in one query.
    for (const q of ['am', 'a', 'ki', 'zz', '_c', 'o', 'ch', 'ru', '00', '7']) {
      for (const limit of [1, 5, 200]) {
        for (const window of [1, 7, 50, 100, 5000]) {
          expect((await patients.list(q, limit, window)).map((r) => r.id), `${q}, ${limit}, ${window}`).toEqual(expected(db, q, limit));
        }
      }
    }
    // A rare term gives the event loop its turns while the older patients are read.
    const { result, turns } = await turnsDuring(() => patients.list('zz', 200, 7));
    expect(result).toEqual([]);
    expect(turns).toBeGreaterThanOrEqual(Math.floor(120 / 7));
    db.close();
  });

  it('follows renames and new patients, and reads through the index, not the list', async () => {
    const { db, patients } = clinic();
    db.prepare("UPDATE patients SET last_name = 'Kipchoge' WHERE id = 'p3'").run();
    expect((await patients.list('kipcho')).map((r) => r.id)).toEqual(['p3']);
    db.prepare("INSERT INTO patients (id, op_number, first_name, last_name, phone, updated_at) VALUES ('new', 'OP-2026-900000', 'Baraka', 'Mutai', '0711 222 333', 'x')").run();
    expect((await patients.list('baraka mut')).map((r) => r.id)).toEqual(['new']);
    expect((await patients.list('0711222')).map((r) => r.id)).toEqual(['new']);
    db.prepare("DELETE FROM patients WHERE id = 'new'").run();
    expect(await patients.list('baraka')).toEqual([]);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM patients WHERE rowid IN (SELECT rowid FROM patients_search WHERE patients_search MATCH ?)
      ORDER BY coalesce(visit_opened_at, '') DESC, last_name LIMIT 200`).all('text : "kipcho"') as { detail: string }[]).map((r) => r.detail);
    expect(plan.join(' | ')).not.toMatch(/SCAN patients\b/);
    db.close();
  });

  it('adds the patients of a database from before the index, once', async () => {
    const dir = tempDir();
    const { db } = clinic(dir);
    db.exec('DROP TRIGGER patients_search_insert; DROP TRIGGER patients_search_update; DROP TRIGGER patients_search_delete; DROP TABLE patients_search');
    db.close();
    const again = openDatabase(dir);
    const patients = new PatientProjection(again, new CommitQueue(again));
    expect((await patients.list('wanjiru')).map((r) => r.id)).toEqual(expected(again, 'wanjiru'));
    expect((await patients.list('wanjiru')).length).toBeGreaterThan(10);
    again.close();
    const third = new Database(path.join(dir, 'pamoja.sqlite'));
    expect((third.prepare('SELECT count(*) AS n FROM patients_search').get() as { n: number }).n).toBe(120);
    third.close();
    // Opened again: nothing added twice.
    const fourth = openDatabase(dir);
    expect((fourth.prepare('SELECT count(*) AS n FROM patients_search').get() as { n: number }).n).toBe(120);
    fourth.close();
  });
});
