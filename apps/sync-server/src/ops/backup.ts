// Online backup: SQLite's backup API copies the database page by page while the server keeps
// serving; the copy is a consistent database at one moment, WAL contents included.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { DB } from '../storage/db.js';
import { renameDurably } from './durable.js';

export const DB_FILE = 'pamoja.sqlite';

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
}

/** A file name that sorts by time; `n` > 0 tells apart backups made in the same millisecond. */
export function backupName(now = new Date(), n = 0): string {
  return `pamoja-${now.toISOString().replace(/[:.]/g, '-')}${n ? `-${n}` : ''}.sqlite`;
}

/** Copies the open database `db` into `dir` (created if missing) under a name no other backup has. */
export async function backupTo(db: DB, dir: string, now = new Date()): Promise<BackupResult> {
  fs.mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  // A name of its own while copying: two copies never write into the same file.
  const partial = path.join(dir, `.${backupName(now)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  try {
    await db.backup(partial);
    // Only a finished copy, on the disk, gets a backup's name: neither a crash mid-backup nor a power
    // cut just after it leaves a file that looks whole and is not.
    const file = await renameDurably(partial, () => {
      let name = path.join(dir, backupName(now));
      for (let n = 1; fs.existsSync(name); n++) name = path.join(dir, backupName(now, n));
      return name;
    });
    return { file, bytes: fs.statSync(file).size, ms: Math.round(performance.now() - t0) };
  } finally {
    fs.rmSync(partial, { force: true });
  }
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
