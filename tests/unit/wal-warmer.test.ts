// The WAL warmer on real SQLite files: where it finds SQLite's next write, and what it reads in.

import { describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, walPathOf } from '../../apps/sync-server/src/storage/db.js';
import { WalWarmer } from '../../apps/sync-server/src/storage/wal-warmer.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { tempDir } from '../helpers/server.js';

const insert = (db: Database.Database, rows: number, bytes = 3000): void => {
  const st = db.prepare('INSERT INTO t VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) st.run(Buffer.alloc(bytes, i));
  })();
};

/** A database with one table `t`, whose WAL only a checkpoint the test runs copies back. */
function walDb(): { dir: string; db: Database.Database } {
  const dir = tempDir();
  const db = openDatabase(dir);
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (v BLOB)');
  return { dir, db };
}

/** Fills the WAL to about `mb` MB, checkpoints it all, and commits once more: the WAL starts over. */
function restartedWal(db: Database.Database, mb: number): void {
  for (let i = 0; i < mb * 4; i++) insert(db, 80);
  const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
  expect(r!.checkpointed).toBe(r!.log);
  insert(db, 1);
}

describe('WAL warmer', () => {
  it('finds SQLite\'s next WAL write at the end of the file while the WAL grows, for any page size', () => {
    for (const pageSize of [4096, 1024, 65536]) {
      const dir = tempDir();
      const file = path.join(dir, 'x.sqlite');
      const db = new Database(file);
      db.pragma(`page_size = ${pageSize}`);
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE t (v BLOB)');
      const warmer = new WalWarmer(file, { aheadBytes: 1 << 20, everyMs: 0 });
      for (let i = 0; i < 5; i++) {
        insert(db, 1 + i * 7);
        expect(warmer.position()?.pos).toBe(fs.statSync(`${file}-wal`).size);
      }
      warmer.close();
      db.close();
    }
  });

  it('has no position before there is a WAL', () => {
    const dir = tempDir();
    const warmer = new WalWarmer(path.join(dir, 'none.sqlite'), { aheadBytes: 1 << 20, everyMs: 0 });
    expect(warmer.position()).toBeNull();
    warmer.nudge();
    expect(warmer.stats.bytesRead).toBe(0);
    warmer.close();
  });

  it('reads nothing while SQLite appends past the end of the WAL', async () => {
    const { db } = walDb();
    const warmer = new WalWarmer(db.name, { aheadBytes: 1 << 20, everyMs: 0 });
    for (let i = 0; i < 3; i++) {
      insert(db, 50);
      warmer.nudge();
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(warmer.stats.looks).toBe(3);
    expect(warmer.stats.bytesRead).toBe(0);
    warmer.close();
    db.close();
  });

  it('once the WAL starts over, reads in the stretch ahead of the next write, once per pass', async () => {
    const { dir, db } = walDb();
    const ahead = 1 << 20;
    const warmer = new WalWarmer(db.name, { aheadBytes: ahead, everyMs: 0 });
    insert(db, 1);
    warmer.nudge(); // learns the first pass's salt
    restartedWal(db, 3);
    const size = fs.statSync(walPathOf(dir)).size;
    const at = warmer.position()!;
    expect(size).toBeGreaterThan(2 * ahead);
    expect(at.pos).toBeLessThan(20_000); // one small commit into the new pass
    warmer.nudge();
    await vi.waitFor(() => expect(warmer.stats.bytesRead).toBe(ahead));
    expect(warmer.stats.restarts).toBe(1);
    // The same position again: that stretch is already read in.
    warmer.nudge();
    await new Promise((r) => setTimeout(r, 20));
    expect(warmer.stats.bytesRead).toBe(ahead);
    // Half a megabyte further on, only what now lies ahead and was not read yet.
    insert(db, 170);
    const moved = warmer.position()!.pos - at.pos;
    expect(moved).toBeGreaterThan(500_000);
    warmer.nudge();
    await vi.waitFor(() => expect(warmer.stats.bytesRead).toBe(ahead + moved));
    // The next pass starts from the top again.
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    expect(r!.checkpointed).toBe(r!.log);
    insert(db, 1);
    warmer.nudge();
    await vi.waitFor(() => expect(warmer.stats.bytesRead).toBe(2 * ahead + moved));
    expect(warmer.stats.restarts).toBe(2);
    warmer.close();
    db.close();
  });

  it('before a checkpoint, reads in the top of the WAL for the pass that follows it', async () => {
    const { db } = walDb();
    const ahead = 1 << 20;
    const warmer = new WalWarmer(db.name, { aheadBytes: ahead, everyMs: 0 });
    for (let i = 0; i < 12; i++) insert(db, 80);
    warmer.beforeRestart();
    await vi.waitFor(() => expect(warmer.stats.bytesRead).toBe(ahead));
    restartedWal(db, 0);
    const pos = warmer.position()!.pos;
    // The new pass's first stretch is already in: only what lies past it is read.
    warmer.nudge();
    await vi.waitFor(() => expect(warmer.stats.bytesRead).toBe(ahead + pos));
    expect(warmer.stats.restarts).toBe(1);
    warmer.close();
    db.close();
  });

  it('looks at most once per everyMs', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.exec('CREATE TABLE t (v BLOB)');
    insert(db, 1);
    const warmer = new WalWarmer(db.name, { aheadBytes: 1 << 20, everyMs: 60_000 });
    for (let i = 0; i < 10; i++) warmer.nudge();
    expect(warmer.stats.looks).toBe(1);
    warmer.close();
    db.close();
  });

  it('closes in the middle of a read without reading on or reporting an error', async () => {
    const { db } = walDb();
    const errors: Error[] = [];
    const warmer = new WalWarmer(db.name, { aheadBytes: 2 << 20, everyMs: 0, onError: (e) => errors.push(e) });
    insert(db, 1);
    warmer.nudge();
    restartedWal(db, 3);
    warmer.nudge();
    warmer.close();
    await new Promise((r) => setTimeout(r, 50));
    // The read already on the thread pool finishes; nothing after it starts.
    expect(warmer.stats.bytesRead).toBeLessThanOrEqual(256 * 1024);
    warmer.nudge();
    expect(warmer.stats.looks).toBe(2);
    expect(errors).toEqual([]);
    db.close();
  });

  it('runs after the commit queue\'s commits, and the queue closes it', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.exec('CREATE TABLE t (v BLOB)');
    const queue = new CommitQueue(db, { walPath: walPathOf(dir), checkpointEveryMs: null, warmWal: { aheadBytes: 1 << 20, everyMs: 0 } });
    const warmer = queue.warmer!;
    const commit = (rows: number) => new Promise<void>((resolve, reject) => {
      for (let i = 0; i < rows; i++) queue.write(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(3000)));
      queue.afterCommit((err) => (err ? reject(err) : resolve()));
    });
    await commit(1);
    expect(warmer.stats.looks).toBe(1);
    for (let i = 0; i < 12; i++) await commit(80);
    db.pragma('wal_checkpoint(PASSIVE)');
    await commit(1);
    await vi.waitFor(() => expect(warmer.stats.bytesRead).toBe(1 << 20));
    expect(warmer.stats.restarts).toBe(1);
    queue.close();
    const looks = warmer.stats.looks;
    warmer.nudge();
    expect(warmer.stats.looks).toBe(looks);
    db.close();
  });

  it('lets the commit queue checkpoint once the WAL passes checkpointAtWalBytes, and not without it', async () => {
    const run = async (checkpointAtWalBytes: number | null) => {
      const dir = tempDir();
      const db = openDatabase(dir);
      db.exec('CREATE TABLE t (v BLOB)');
      const queue = new CommitQueue(db, {
        walPath: walPathOf(dir), checkpointEveryMs: 60_000, warmWal: { aheadBytes: 1 << 20, everyMs: 0 }, checkpointAtWalBytes,
      });
      // About 60 KB of frames every 25 ms, 4.3 MB in all; size-triggered checkpoints start 500 ms apart.
      for (let i = 0; i < 70; i++) {
        await new Promise<void>((resolve) => {
          for (let j = 0; j < 20; j++) queue.write(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(3000)));
          queue.afterCommit(() => resolve());
        });
        await new Promise((r) => setTimeout(r, 25));
      }
      const result = { checkpoints: queue.stats.checkpoints, restarts: queue.warmer!.stats.restarts, walBytes: fs.statSync(walPathOf(dir)).size };
      queue.close();
      db.close();
      return result;
    };
    const limited = await run(256 * 1024);
    expect(limited.checkpoints).toBeGreaterThanOrEqual(2);
    expect(limited.restarts).toBeGreaterThanOrEqual(2);
    const unlimited = await run(null);
    expect(unlimited.checkpoints).toBe(0);
    expect(unlimited.restarts).toBe(0);
    expect(unlimited.walBytes).toBeGreaterThan(4 * 2 ** 20);
    // Each pass over the WAL lasts about one gap: the file stays well short of everything written.
    expect(limited.walBytes).toBeLessThan(unlimited.walBytes * 0.65);
  });
});
