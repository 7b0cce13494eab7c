// The group-commit queue on a real SQLite file: when each kind of callback runs, and who checkpoints.

import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, walPathOf } from '../../apps/sync-server/src/storage/db.js';
import { CommitQueue } from '../../apps/sync-server/src/storage/commit-queue.js';
import { tempDir } from '../helpers/server.js';

const rowsSeenByAnotherConnection = (dir: string): number => {
  const other = new Database(path.join(dir, 'pamoja.sqlite'), { readonly: true });
  try {
    return (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } finally {
    other.close();
  }
};

/** A queue on a fresh database file with one table `t`, syncing that file's WAL. */
function queueOnFile(column: string, checkpointEveryMs: number | null = null, syncGapMs = 0) {
  const dir = tempDir();
  const db = openDatabase(dir);
  db.exec(`CREATE TABLE t (v ${column})`);
  return { dir, db, queue: new CommitQueue(db, () => {}, walPathOf(dir), checkpointEveryMs, syncGapMs) };
}

describe('commit queue', () => {
  it('runs afterWrite once the batch is committed and afterCommit once it is also fsynced', async () => {
    const { dir, db, queue } = queueOnFile('INTEGER');
    const events: string[] = [];
    queue.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    const first = queue.batch;
    queue.afterWrite(() => events.push(`written:${rowsSeenByAnotherConnection(dir)}:${queue.stats.fsyncs}`));
    queue.afterCommit(() => events.push(`synced:${queue.stats.fsyncs}`));
    expect(events).toEqual([]);
    await new Promise((r) => setImmediate(r));
    // Committed and visible to another connection; the fsync has started but not finished.
    expect(events).toEqual(['written:1:0']);
    // Queued while that fsync runs: a later batch, acknowledged only by a later fsync.
    queue.write(() => db.prepare('INSERT INTO t VALUES (2)').run());
    expect(queue.batch).toBe(first + 1);
    queue.afterCommit(() => events.push(`second synced:${queue.stats.fsyncs}`));
    for (let i = 0; i < 200 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual(['written:1:0', 'synced:1', 'second synced:2']);
    // Nothing queued: the last committed batch, and callbacks run at once.
    expect(queue.batch).toBe(first + 1);
    let now = false;
    queue.afterWrite(() => (now = true));
    expect(now).toBe(true);
    queue.close();
    db.close();
  });

  it('checkpoints on its own timer instead of SQLite\'s page count', async () => {
    const { dir, db, queue } = queueOnFile('BLOB', 50);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    // Far past SQLite's default of 1,000 pages, in batches.
    for (let b = 0; b < 20; b++) {
      for (let i = 0; i < 100; i++) queue.write(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000)));
      queue.flush();
    }
    // Everything is still in the WAL: the database file has not grown.
    const dbFile = path.join(dir, 'pamoja.sqlite');
    expect(queue.stats.checkpoints).toBe(0);
    expect(fs.statSync(walPathOf(dir)).size).toBeGreaterThan(2000 * 4096);
    expect(fs.statSync(dbFile).size).toBeLessThan(1024 * 1024);
    for (let i = 0; i < 100 && queue.stats.checkpoints === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(queue.stats.checkpoints).toBe(1);
    expect(fs.statSync(dbFile).size).toBeGreaterThan(2000 * 4096);
    // A write outside the queue reaches the database file with the next pass too.
    db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 7));
    const grown = fs.statSync(dbFile).size;
    for (let i = 0; i < 100 && fs.statSync(dbFile).size === grown; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fs.statSync(dbFile).size).toBeGreaterThan(grown);
    queue.close();
    db.close();
  });

  it('spaces fsyncs by the gap it is given, and close() still syncs and answers what waits', async () => {
    const { dir, db, queue } = queueOnFile('INTEGER', null, 150);
    const synced: [string, number][] = [];
    const t0 = performance.now();
    queue.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    queue.afterCommit((err) => synced.push([`first:${err}`, performance.now() - t0]));
    for (let i = 0; i < 100 && synced.length < 1; i++) await new Promise((r) => setTimeout(r, 5));
    // The first batch waits for no one.
    expect(synced[0]![0]).toBe('first:null');
    expect(synced[0]![1]).toBeLessThan(150);
    queue.write(() => db.prepare('INSERT INTO t VALUES (2)').run());
    queue.afterCommit((err) => synced.push([`second:${err}`, performance.now() - t0]));
    for (let i = 0; i < 100 && synced.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    // The next fsync starts no sooner than 150 ms after the first one started.
    expect(synced[1]![0]).toBe('second:null');
    expect(synced[1]![1]).toBeGreaterThanOrEqual(150);
    expect(queue.stats.fsyncs).toBe(2);
    // A third batch waits for the gap; shutting down syncs it at once and answers its callback.
    queue.write(() => db.prepare('INSERT INTO t VALUES (3)').run());
    queue.afterCommit((err) => synced.push([`third:${err}`, performance.now() - t0]));
    await new Promise((r) => setImmediate(r));
    expect(synced).toHaveLength(2);
    queue.close();
    expect(synced.map(([s]) => s)).toEqual(['first:null', 'second:null', 'third:null']);
    expect(rowsSeenByAnotherConnection(dir)).toBe(3);
    db.close();
  });
});
