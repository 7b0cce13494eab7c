// Putting a finished file under its name so that a power cut cannot leave the name on pages that
// never reached the disk: the file is synced before the rename, and its directory after it.

import fs from 'node:fs';
import path from 'node:path';

function syncPathSync(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

async function syncPath(p: string): Promise<void> {
  const h = await fs.promises.open(p, 'r');
  try {
    await h.datasync();
  } finally {
    await h.close();
  }
}

/** Renames the written file `from` to `to`, both on the disk when it returns (for the CLI). */
export function renameDurablySync(from: string, to: string): void {
  syncPathSync(from);
  fs.renameSync(from, to);
  syncPathSync(path.dirname(to));
}

/**
 * The same on the thread pool, for the server (a large backup's pages can take a while). `pickName`
 * runs just before the rename, so a name it checks is free is still free when it is used.
 */
export async function renameDurably(from: string, pickName: () => string): Promise<string> {
  await syncPath(from);
  const to = pickName();
  fs.renameSync(from, to);
  await syncPath(path.dirname(to));
  return to;
}
