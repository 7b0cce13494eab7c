// Online backup: SQLite's backup API copies the database page by page while the server keeps
// serving; the copy is a consistent database at one moment, WAL contents included.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DB } from '../storage/db.js';

export const DB_FILE = 'pamoja.sqlite';

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
}

/** A file name that sorts by time and never collides within one server. */
export function backupName(now = new Date()): string {
  return `pamoja-${now.toISOString().replace(/[:.]/g, '-')}.sqlite`;
}

/** Copies the open database `db` into `dir` (created if missing). */
export async function backupTo(db: DB, dir: string, name = backupName()): Promise<BackupResult> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  if (fs.existsSync(file)) throw new Error(`${file} already exists`);
  const t0 = performance.now();
  const partial = `${file}.partial`;
  await db.backup(partial);
  // Only a finished copy gets the real name, so a crash mid-backup never leaves a file that looks whole.
  fs.renameSync(partial, file);
  return { file, bytes: fs.statSync(file).size, ms: Math.round(performance.now() - t0) };
}

/** Backs up the database of a data directory from another process (the CLI); readers do not block the server. */
export async function backupDataDir(dataDir: string, dir: string): Promise<BackupResult> {
  const src = path.join(dataDir, DB_FILE);
  if (!fs.existsSync(src)) throw new Error(`No database at ${src}`);
  const db = new Database(src, { readonly: true, fileMustExist: true });
  try {
    return await backupTo(db, dir);
  } finally {
    db.close();
  }
}
