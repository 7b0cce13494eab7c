// The update log on a real SQLite file: numbering that survives compaction and restarts, and
// databases written before the log was keyed by (doc, seq).

import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import path from 'node:path';
import * as Y from 'yjs';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { DocStore } from '../../apps/sync-server/src/storage/doc-store.js';
import { tempDir } from '../helpers/server.js';

/** A server's view of the data directory: database, queue and store, as the server opens them. */
function open(dir: string) {
  const db = openDatabase(dir);
  const queue = new CommitQueue(db);
  return { db, queue, store: new DocStore(db, queue) };
}

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
});
