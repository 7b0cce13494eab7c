// Restore: put a backup file in place as a data directory's database. Run with the server stopped.
// The backup is checked first, and a database already there is moved aside, never overwritten.

import fs from 'node:fs';
import path from 'node:path';
import { DB_FILE } from './backup.js';
import { checkFile, type CheckReport } from './check.js';
import { renameDurablySync } from './durable.js';

export interface RestoreResult {
  file: string;
  movedAside: string[];
  check: CheckReport;
}

export function restoreBackup(backupFile: string, dataDir: string, opts: { force?: boolean } = {}): RestoreResult {
  if (!fs.existsSync(backupFile)) throw new Error(`No backup at ${backupFile}`);
  const check = checkFile(backupFile);
  if (!check.ok) throw new Error(`The backup fails its check; not restoring it: ${JSON.stringify(check)}`);
  fs.mkdirSync(dataDir, { recursive: true });
  const target = path.join(dataDir, DB_FILE);
  const movedAside: string[] = [];
  const present = [target, `${target}-wal`, `${target}-shm`].filter((f) => fs.existsSync(f));
  if (present.includes(target) && !opts.force) {
    throw new Error(`${target} exists; pass --force to move it aside and restore over it`);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const f of present) {
    const aside = `${f}.before-restore-${stamp}`;
    fs.renameSync(f, aside);
    movedAside.push(aside);
  }
  // Copy under a temporary name, then rename: the database file appears whole or not at all, and is
  // on the disk, with the files moved aside, before the server starts writing to it.
  const tmp = `${target}.restoring`;
  fs.copyFileSync(backupFile, tmp);
  renameDurablySync(tmp, target);
  return { file: target, movedAside, check };
}
