// Opens the SQLite database (WAL) and brings its tables up to date.

import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type DB = Database.Database;

/**
 * What patient search matches, for the row `r`: the name both ways round, the OP number and the
 * phone's digits, with a separator no one types in between (a match never spans two of them).
 */
function searchText(r: string): string {
  return `${r}.first_name || ' ' || ${r}.last_name || char(1) || ${r}.last_name || ' ' || ${r}.first_name || char(1) || ` +
    `${r}.op_number || char(1) || replace(replace(replace(${r}.phone, ' ', ''), '+', ''), '-', '')`;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  device TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS doc_updates (
  doc TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  audit TEXT,
  PRIMARY KEY (doc, seq)
) WITHOUT ROWID;
-- Log rows up to this seq have had the audit rows kept in them written (audit/audit-log.ts): one row, id 1.
CREATE TABLE IF NOT EXISTS audit_upto (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
-- How far the log's row numbers are handed out (storage/doc-store.ts): one row, id 1.
CREATE TABLE IF NOT EXISTS doc_seq (id INTEGER PRIMARY KEY CHECK (id = 1), reserved INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS doc_snapshots (
  doc TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  upto_seq INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS client_owners (
  doc TEXT NOT NULL,
  client_id INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (doc, client_id)
);
CREATE TABLE IF NOT EXISTS patients (
  id TEXT PRIMARY KEY,
  op_number TEXT NOT NULL UNIQUE,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  sex TEXT NOT NULL DEFAULT '',
  date_of_birth TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  visit_id TEXT,
  visit_status TEXT,
  triage_category TEXT,
  visit_opened_at TEXT,
  updated_at TEXT NOT NULL
);
-- The workflow's safety net looks up open visits and the patient of a visit.
CREATE INDEX IF NOT EXISTS patients_open_visit ON patients(visit_status) WHERE visit_status <> 'COMPLETED';
CREATE INDEX IF NOT EXISTS patients_visit ON patients(visit_id);
CREATE TABLE IF NOT EXISTS op_counter (year INTEGER PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  user_id TEXT,
  username TEXT,
  role TEXT,
  device TEXT,
  ip TEXT,
  user_agent TEXT,
  patient_id TEXT,
  visit_id TEXT,
  action TEXT NOT NULL,
  path TEXT,
  old_value TEXT,
  new_value TEXT,
  outcome TEXT NOT NULL,
  detail TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_patient ON audit(patient_id, id);
CREATE INDEX IF NOT EXISTS audit_user ON audit(username, id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
-- Workflow (apps/sync-server/src/workflow): one row per hand-off; rows are closed, never deleted.
CREATE TABLE IF NOT EXISTS assignments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  patient_id TEXT NOT NULL,
  visit_id TEXT NOT NULL,
  step TEXT NOT NULL,
  type TEXT NOT NULL,
  queue_role TEXT NOT NULL,
  assignee_id TEXT,
  priority TEXT NOT NULL,
  status TEXT NOT NULL,
  queued_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT,
  ended_at TEXT,
  ended_by TEXT,
  previous_id INTEGER,
  notes TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS assignments_one_active ON assignments(visit_id) WHERE status = 'ACTIVE';
CREATE INDEX IF NOT EXISTS assignments_queue ON assignments(status, queue_role);
CREATE INDEX IF NOT EXISTS assignments_visit ON assignments(visit_id, id);
CREATE TABLE IF NOT EXISTS visit_contributors (
  visit_id TEXT NOT NULL,
  part TEXT NOT NULL,
  ref TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (visit_id, part, ref, user_id)
);
CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  patient_id TEXT,
  visit_id TEXT,
  dedupe_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  read_at TEXT,
  UNIQUE (user_id, dedupe_key)
);
CREATE INDEX IF NOT EXISTS notifications_user ON notifications(user_id, id);
-- Lookups that would otherwise read a whole table that grows with every visit, login and
-- notification: the day board's steps ended today; a person's unread notifications (on every
-- stream connect); registration's duplicate check; the patient list, newest visit first; every
-- session of a user being signed out.
CREATE INDEX IF NOT EXISTS assignments_ended ON assignments(ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;
CREATE INDEX IF NOT EXISTS patients_birth ON patients(date_of_birth);
CREATE INDEX IF NOT EXISTS patients_recent ON patients(coalesce(visit_opened_at, '') DESC, last_name);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
-- Patient search by any part of a name, the OP number or the phone's digits: a trigram index kept in
-- step with the patient list by triggers (projections/patients.ts searches it).
CREATE VIRTUAL TABLE IF NOT EXISTS patients_search USING fts5(id UNINDEXED, text, tokenize = 'trigram');
CREATE TRIGGER IF NOT EXISTS patients_search_insert AFTER INSERT ON patients BEGIN
  INSERT INTO patients_search (rowid, id, text) VALUES (new.rowid, new.id, ${searchText('new')});
END;
CREATE TRIGGER IF NOT EXISTS patients_search_update AFTER UPDATE ON patients BEGIN
  UPDATE patients_search SET id = new.id, text = ${searchText('new')} WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS patients_search_delete AFTER DELETE ON patients BEGIN
  DELETE FROM patients_search WHERE rowid = old.rowid;
END;
`;

export function hasTable(db: DB, name: string): boolean {
  return db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

function hasColumn(db: DB, table: string, column: string): boolean {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
}

const statements = new WeakMap<DB, Map<string, Database.Statement>>();

/** A prepared statement kept for reuse: for plain get/run/all calls on hot paths (no iterate, no modes). */
export function statement(db: DB, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (!byText) statements.set(db, (byText = new Map()));
  let st = byText.get(sql);
  if (!st) byText.set(sql, (st = db.prepare(sql)));
  return st;
}

export const walPathOf = (dataDir: string): string => path.join(dataDir, 'pamoja.sqlite-wal');

export function openDatabase(dataDir: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): DB {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'pamoja.sqlite'));
  db.pragma('journal_mode = WAL');
  // Commits themselves do not sync; the commit queue fsyncs the WAL off the event loop before any
  // write is acknowledged when SQLITE_SYNCHRONOUS=FULL (see commit-queue.ts). Checkpoints still sync.
  void synchronous;
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // A 4 MB page cache (SQLite's own default is 2 MB, the better-sqlite3 build's 16 MB). A commit
  // changes the leaf pages of the log and the audit indexes for its record; a page not in this cache
  // is read with pread on the event loop, and one the operating system has evicted comes from disk.
  // With 1 MB, in a many-rooms benchmark (2,000 connections, 500 rooms) the loop read the database
  // file about 4,600 times, and some of those reads held it for 0.1-1.8 s while the disk was busy;
  // with 4 MB, about 640 times (6 MB: about 370), all of them while records opened or unloaded and
  // none while they were only being edited. 16 MB cost 7 MB of RSS.
  db.pragma('cache_size = -4000');
  db.transaction(() => {
    const rowidLog = setAsideRowidLog(db);
    const searchable = hasTable(db, 'patients_search');
    // A log from before audit rows were kept in it until written.
    if (hasTable(db, 'doc_updates') && !hasColumn(db, 'doc_updates', 'audit')) db.exec('ALTER TABLE doc_updates ADD COLUMN audit TEXT');
    db.exec(SCHEMA);
    // A database from before patient search was indexed: its patients are added once.
    if (!searchable) db.exec(`INSERT INTO patients_search (rowid, id, text) SELECT rowid, id, ${searchText('patients')} FROM patients`);
    if (rowidLog) {
      db.exec(`INSERT INTO doc_updates (doc, seq, data) SELECT doc, seq, data FROM ${rowidLog}; DROP TABLE ${rowidLog};`);
    }
  })();
  return db;
}

/**
 * Databases from before the update log was keyed by (doc, seq): their log was a rowid table with
 * AUTOINCREMENT and a (doc, seq) index, so every accepted edit changed three b-trees (the table, the
 * index and sqlite_sequence) where one now does. That table is renamed out of the way (its index goes
 * with it), SCHEMA creates the keyed one and the rows are copied over with their seq numbers, so the
 * snapshots that refer to them stay right; DocStore numbers new rows past the highest seq in use.
 */
function setAsideRowidLog(db: DB): string | null {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'doc_updates'").get() as { sql: string } | undefined;
  if (!row || !/AUTOINCREMENT/i.test(row.sql)) return null;
  db.exec('ALTER TABLE doc_updates RENAME TO doc_updates_rowid');
  return 'doc_updates_rowid';
}
