// Health check of a data directory: SQLite's own integrity check, every document loads without
// missing pieces, the log's row numbers stay within the block recorded for them, and the audit hash
// chain holds. Read-only; safe on a copy or a live database.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DB } from '../storage/db.js';
import { CommitQueue } from '../storage/commit-queue.js';
import { DocStore, highestSeq, recordedSeqEnd } from '../storage/doc-store.js';
import { AuditLog } from '../audit/audit-log.js';
import { DB_FILE } from './backup.js';

export interface CheckReport {
  ok: boolean;
  integrity: string[];
  documents: { checked: number; bad: { doc: string; problem: string }[] };
  /**
   * The highest row number in the log and the snapshots against the end of the block recorded in
   * `doc_seq` (null in a database from before it). One past the end would be handed out again after
   * a restart, and a later edit could be read as already in a snapshot.
   */
  numbering: { ok: boolean; highest: number; reserved: number | null };
  audit: ReturnType<AuditLog['verify']> & {
    /**
     * Edits whose audit rows are still kept in their log rows (written within a fraction of a second
     * on a running server; on a copy or after a crash, when the server next starts). Not a fault.
     */
    kept: number;
  };
}

export function checkDatabase(db: DB): CheckReport {
  const integrity = (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check);
  // Nothing is written: the queue and stores are only here to reuse their readers.
  const queue = new CommitQueue(db);
  const docs = new DocStore(db, queue);
  const bad: { doc: string; problem: string }[] = [];
  const names = docs.docNames();
  for (const name of names) {
    try {
      const { doc } = docs.load(name);
      const pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
      doc.destroy();
      if (pending) bad.push({ doc: name, problem: 'stored updates depend on changes that are missing' });
    } catch (e) {
      bad.push({ doc: name, problem: e instanceof Error ? e.message : String(e) });
    }
  }
  const numbering = checkNumbering(db);
  const log = new AuditLog(db, queue);
  const audit = { ...log.verify(), kept: log.storedIntents().length };
  const ok = integrity.length === 1 && integrity[0] === 'ok' && bad.length === 0 && numbering.ok && audit.ok;
  return { ok, integrity, documents: { checked: names.length, bad }, numbering, audit };
}

function checkNumbering(db: DB): CheckReport['numbering'] {
  const highest = highestSeq(db);
  const reserved = recordedSeqEnd(db);
  return { ok: reserved === null || highest <= reserved, highest, reserved };
}

export function checkDataDir(dataDir: string): CheckReport {
  const file = path.join(dataDir, DB_FILE);
  if (!fs.existsSync(file)) throw new Error(`No database at ${file}`);
  return checkFile(file);
}

export function checkFile(file: string): CheckReport {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return checkDatabase(db);
  } finally {
    db.close();
  }
}
