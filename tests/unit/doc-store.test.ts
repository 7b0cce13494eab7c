// The update log on a real SQLite file: numbering that survives compaction and restarts, and
// databases written before the log was keyed by (doc, seq).

import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import path from 'node:path';
import * as Y from 'yjs';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { DocStore, SEQ_BLOCK } from '../../apps/sync-server/src/storage/doc-store.js';
import { checkFile } from '../../apps/sync-server/src/ops/check.js';
import { tempDir } from '../helpers/server.js';

/** A server's view of the data directory: database, queue and store, as the server opens them. */
function open(dir: string) {
  const db = openDatabase(dir);
  let store: DocStore | null = null;
  // As the server wires it (server.ts): a failed commit makes the store read back its numbering.
  const queue = new CommitQueue(db, { onError: () => store?.resync() });
  store = new DocStore(db, queue);
  return { db, queue, store };
}

const reservedIn = (db: Database.Database): number | undefined =>
  (db.prepare('SELECT reserved FROM doc_seq WHERE id = 1').get() as { reserved: number } | undefined)?.reserved;

/** One typed edit as the update a client would send. */
function edit(doc: Y.Doc, text: string): Uint8Array {
  let out: Uint8Array | null = null;
  const grab = (u: Uint8Array): void => {
    out = u;
  };
  doc.on('update', grab);
  doc.getText('notes').insert(doc.getText('notes').length, text);
  doc.off('update', grab);
  return out!;
}

const notesOf = (store: DocStore, name: string): string => store.load(name).doc.getText('notes').toString();

describe('document log', () => {
  it('reads back an edit made after a restart that followed a compaction', () => {
    const dir = tempDir();
    const a = new Y.Doc();
    let s = open(dir);
    for (const t of ['fever ', 'cough ', 'three days ']) s.store.append('patient:a', edit(a, t));
    s.queue.flush();
    // The snapshot covers every row so far and they are deleted: the log table is empty.
    s.store.compact('patient:a', s.store.load('patient:a').doc);
    s.queue.flush();
    expect((s.db.prepare('SELECT count(*) AS n FROM doc_updates').get() as { n: number }).n).toBe(0);
    s.db.close();

    // After a restart, the next row must be numbered past the snapshot, or loading would skip it.
    s = open(dir);
    s.store.append('patient:a', edit(a, 'no rash'));
    s.queue.flush();
    s.db.close();
    expect(notesOf(open(dir).store, 'patient:a')).toBe('fever cough three days no rash');
  });

  it('opens a database whose log was a rowid table with AUTOINCREMENT, records intact', () => {
    const dir = tempDir();
    const a = new Y.Doc();
    const b = new Y.Doc();
    const [a1, a2, a3] = [edit(a, 'fever '), edit(a, 'cough '), edit(a, 'alert')];
    const b1 = edit(b, 'stable');
    // Written the way the earlier server did: patient a compacted up to seq 2, then one more edit.
    const old = new Database(path.join(dir, 'pamoja.sqlite'));
    old.exec(`
      CREATE TABLE doc_updates (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL, data BLOB NOT NULL);
      CREATE INDEX doc_updates_doc ON doc_updates(doc, seq);
      CREATE TABLE doc_snapshots (doc TEXT PRIMARY KEY, data BLOB NOT NULL, upto_seq INTEGER NOT NULL, updated_at TEXT NOT NULL);
    `);
    const insert = old.prepare('INSERT INTO doc_updates (doc, data) VALUES (?, ?)');
    insert.run('patient:a', a1);
    insert.run('patient:a', a2);
    insert.run('patient:a', a3);
    insert.run('patient:b', b1);
    old.prepare('INSERT INTO doc_snapshots VALUES (?, ?, ?, ?)').run('patient:a', Y.mergeUpdates([a1, a2]), 2, new Date().toISOString());
    old.exec("DELETE FROM doc_updates WHERE doc = 'patient:a' AND seq <= 2");
    old.close();

    const s = open(dir);
    const table = s.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'doc_updates'").get() as { sql: string };
    expect(table.sql).toMatch(/WITHOUT ROWID/);
    expect(table.sql).not.toMatch(/AUTOINCREMENT/);
    expect(s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'doc_updates_doc'").get()).toBeUndefined();
    expect(s.db.prepare('SELECT doc, seq FROM doc_updates ORDER BY seq').all()).toEqual([
      { doc: 'patient:a', seq: 3 }, { doc: 'patient:b', seq: 4 },
    ]);
    expect(notesOf(s.store, 'patient:a')).toBe('fever cough alert');
    expect(notesOf(s.store, 'patient:b')).toBe('stable');

    // New rows continue past everything the old log used.
    s.store.append('patient:a', edit(a, ', afebrile'));
    s.queue.flush();
    expect((s.db.prepare("SELECT max(seq) AS m FROM doc_updates WHERE doc = 'patient:a'").get() as { m: number }).m).toBe(5);
    s.db.close();
    expect(notesOf(open(dir).store, 'patient:a')).toBe('fever cough alert, afebrile');
  });

  it('numbers rows past the recorded block after a restart, and never past what is committed', () => {
    const dir = tempDir();
    const a = new Y.Doc();
    let s = open(dir);
    s.store.append('patient:a', edit(a, 'fever '));
    s.queue.flush();
    // The first row records a block of numbers with it.
    expect(s.db.prepare('SELECT seq FROM doc_updates').all()).toEqual([{ seq: 1 }]);
    expect(reservedIn(s.db)).toBe(1 + SEQ_BLOCK);
    s.db.close();

    // The next process starts past the whole block, and records the next one with its first row.
    s = open(dir);
    s.store.append('patient:a', edit(a, 'cough '));
    s.queue.flush();
    expect((s.db.prepare("SELECT max(seq) AS m FROM doc_updates").get() as { m: number }).m).toBe(SEQ_BLOCK + 2);
    expect(reservedIn(s.db)).toBe(2 * SEQ_BLOCK + 2);
    s.db.close();
    expect(notesOf(open(dir).store, 'patient:a')).toBe('fever cough ');
  });

  it('keeps a later edit after a failed commit rolled back the block recorded in it', () => {
    const dir = tempDir();
    const a = new Y.Doc();
    let s = open(dir);
    s.store.append('patient:a', edit(a, 'fever '));
    s.queue.flush();
    s.db.close();

    // A restart: the first row records the next block, and its batch fails as a whole (a full disk).
    s = open(dir);
    const before = reservedIn(s.db);
    s.store.append('patient:a', edit(a, 'lost in the failed commit '));
    s.queue.write(() => {
      throw new Error('disk full');
    });
    s.queue.flush();
    expect(reservedIn(s.db)).toBe(before);
    // Later edits commit, and the record is compacted: its snapshot covers every row so far.
    const b = new Y.Doc();
    s.store.append('patient:b', edit(b, 'stable '));
    s.queue.flush();
    expect(reservedIn(s.db)!).toBeGreaterThanOrEqual((s.db.prepare('SELECT max(seq) AS m FROM doc_updates').get() as { m: number }).m);
    s.store.compact('patient:b', s.store.load('patient:b').doc);
    s.queue.flush();
    s.db.close();

    // After a restart, a new edit must be numbered past the snapshot, or loading would skip it.
    s = open(dir);
    s.store.append('patient:b', edit(b, 'discharged'));
    s.queue.flush();
    s.db.close();
    expect(notesOf(open(dir).store, 'patient:b')).toBe('stable discharged');
  });

  it('check reports rows past the recorded numbering, and reads a database from before it', () => {
    const dir = tempDir();
    const file = path.join(dir, 'pamoja.sqlite');
    const a = new Y.Doc();
    const s = open(dir);
    s.store.append('patient:a', edit(a, 'fever '));
    s.queue.flush();
    s.db.close();
    expect(checkFile(file)).toMatchObject({ ok: true, numbering: { ok: true, highest: 1, reserved: 1 + SEQ_BLOCK } });

    // As if a row had been committed without its block: a restart would hand its number out again.
    const db = new Database(file);
    db.prepare('UPDATE doc_seq SET reserved = 0').run();
    db.close();
    expect(checkFile(file)).toMatchObject({ ok: false, numbering: { ok: false, highest: 1, reserved: 0 } });

    // A backup from before the block was recorded, checked read-only: numbering has nothing to hold to.
    const old = new Database(file);
    old.exec('DROP TABLE doc_seq');
    old.close();
    expect(checkFile(file)).toMatchObject({ ok: true, numbering: { ok: true, highest: 1, reserved: null } });
    expect(notesOf(open(dir).store, 'patient:a')).toBe('fever ');
  });
});
