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
  return { dir, db, queue: new CommitQueue(db, { walPath: walPathOf(dir), checkpointEveryMs, syncGapMs }) };
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

  it('answers each callback once when close() comes while an fsync is in flight', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.exec('CREATE TABLE t (v INTEGER)');
    const errors: Error[] = [];
    const queue = new CommitQueue(db, { walPath: walPathOf(dir), onError: (e) => errors.push(e) });
    const calls: string[] = [];
    queue.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    queue.afterCommit((err) => calls.push(`a:${err}`));
    queue.flush(); // committed; its fsync is now on the thread pool
    expect(queue.stats.fsyncs).toBe(1);
    queue.close();
    expect(calls).toEqual(['a:null']);
    // The pool's fsync finishes after close(): nobody is answered twice, and no error is reported.
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual(['a:null']);
    expect(errors).toEqual([]);
    db.close();
  });
});

describe('commit queue: early commits', () => {
  const spin = (ms: number): void => {
    const until = performance.now() + ms;
    while (performance.now() < until) { /* the batch ages */ }
  };

  it('commits a batch open for maxBatchMs at once, and only then; the turn\'s own commit then finds nothing', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.exec('CREATE TABLE t (v INTEGER)');
    const queue = new CommitQueue(db, { walPath: walPathOf(dir), maxBatchMs: 5 });
    const sent: number[] = [];
    queue.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    const first = queue.batch;
    queue.afterWrite(() => sent.push(first));
    queue.flushIfDue(); // open for well under 5 ms
    expect(rowsSeenByAnotherConnection(dir)).toBe(0);
    expect(sent).toEqual([]);
    spin(6);
    queue.flushIfDue();
    // Committed synchronously: readable elsewhere, and its afterWrite (a room's fan-out) has run.
    expect(rowsSeenByAnotherConnection(dir)).toBe(1);
    expect(sent).toEqual([first]);
    // Later writes in the same turn form the next batch and commit at the end of the turn.
    queue.write(() => db.prepare('INSERT INTO t VALUES (2)').run());
    expect(queue.batch).toBe(first + 1);
    queue.afterWrite(() => sent.push(first + 1));
    await new Promise((r) => setImmediate(r));
    expect(rowsSeenByAnotherConnection(dir)).toBe(2);
    expect(sent).toEqual([first, first + 1]);
    expect(queue.stats.batches).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(queue.stats.batches).toBe(2);
    queue.close();
    db.close();
  });

  it('never commits early inside another transaction or inside a commit\'s own callbacks', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.exec('CREATE TABLE t (v INTEGER)');
    const queue = new CommitQueue(db, { walPath: walPathOf(dir), maxBatchMs: 1 });
    queue.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    spin(2);
    // Inside a transaction a nested commit would only be a savepoint: nothing may be sent as committed.
    db.transaction(() => queue.flushIfDue())();
    expect(rowsSeenByAnotherConnection(dir)).toBe(0);
    // Inside the callbacks of a commit, a second batch waits for the end of the turn, keeping order.
    const order: string[] = [];
    queue.afterWrite(() => {
      queue.write(() => db.prepare('INSERT INTO t VALUES (2)').run());
      queue.afterWrite(() => order.push('second'));
      spin(2);
      queue.flushIfDue();
      order.push('first done');
    });
    queue.flushIfDue();
    expect(rowsSeenByAnotherConnection(dir)).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['first done', 'second']);
    expect(rowsSeenByAnotherConnection(dir)).toBe(2);
    queue.close();
    db.close();
  });
});

describe('commit queue: a failing callback', () => {
  it('costs the other callbacks of its batch nothing: they run, and the batch is still fsynced and acknowledged', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.exec('CREATE TABLE t (v INTEGER)');
    const failures: string[] = [];
    const queue = new CommitQueue(db, { walPath: walPathOf(dir), onCallbackError: (e) => failures.push(e.message) });
    const events: string[] = [];
    queue.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    queue.afterWrite(() => {
      throw new Error('a room could not send');
    });
    queue.afterWrite(() => events.push('second room sent'));
    queue.afterCommit(() => events.push('saved'));
    queue.flush(); // as an early commit would, outside the loop's own turn
    expect(events).toEqual(['second room sent']);
    expect(failures).toEqual(['a room could not send']);
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual(['second room sent', 'saved']);
    queue.close();
    db.close();
  });

  it('costs the others nothing either when it waits for an fsync that a later commit started', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.exec('CREATE TABLE t (v INTEGER)');
    const failures: string[] = [];
    const queue = new CommitQueue(db, { walPath: walPathOf(dir), syncGapMs: 30, onCallbackError: (e) => failures.push(e.message) });
    const events: string[] = [];
    queue.write(() => db.prepare('INSERT INTO t VALUES (1)').run());
    queue.afterCommit(() => events.push('first saved'));
    queue.flush(); // committed; its fsync starts now, and the next may start only 30 ms later
    // Nothing is queued now and an fsync is in flight: these wait in the queue's own list for the next.
    queue.afterCommit(() => {
      throw new Error('an answer could not be encoded');
    });
    queue.afterCommit(() => events.push('saved'));
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual(['first saved', 'saved']);
    expect(failures).toEqual(['an answer could not be encoded']);
    queue.close();
    db.close();
  });
});

describe('commit queue: checkpoints that sync the database file off the event loop', () => {
  const walSize = (dir: string): number => fs.statSync(walPathOf(dir)).size;
  /** Rows in the database file alone, as a copy without its WAL would show them. */
  const rowsInDatabaseFile = (dir: string): number => {
    const copy = tempDir();
    fs.copyFileSync(path.join(dir, 'pamoja.sqlite'), path.join(copy, 'pamoja.sqlite'));
    return rowsSeenByAnotherConnection(copy);
  };
  const waitFor = async (done: () => boolean, ms = 1000): Promise<void> => {
    for (const until = performance.now() + ms; performance.now() < until && !done(); ) await new Promise((r) => setTimeout(r, 5));
  };

  it('keeps the WAL from starting over until the database file is synced, then lets it', async () => {
    const { dir, db, queue } = queueOnFile('BLOB', null, 30);
    db.pragma('wal_checkpoint(TRUNCATE)'); // the empty table, in the database file itself
    for (let i = 0; i < 50; i++) queue.write(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 1)));
    queue.afterCommit(() => {}); // an fsync now, so the next one waits 30 ms
    queue.flush();
    queue.checkpoint();
    // Nothing is copied before an fsync of the WAL that started after the cycle did.
    expect(rowsInDatabaseFile(dir)).toBe(0);
    // Waiting for that same fsync, this runs right after the copy, while the database file's fsync is
    // still on the thread pool.
    const during: number[] = [];
    queue.afterCommit(() => {
      during.push(rowsInDatabaseFile(dir));
      // A commit now must not overwrite the WAL from the top: a power cut could still lose the
      // copied pages, and then only the WAL has them. It is appended instead.
      const before = walSize(dir);
      db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 2));
      during.push(walSize(dir) - before);
    });
    await waitFor(() => queue.stats.checkpoints === 1);
    expect(during[0]).toBe(50);
    expect(during[1]).toBeGreaterThan(0);
    expect(queue.stats.checkpoints).toBe(1);
    // The cycle ended by copying that commit too, with SQLite's own syncs.
    expect(rowsInDatabaseFile(dir)).toBe(51);
    // So the next commit starts the WAL over instead of growing it.
    const grown = walSize(dir);
    db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 3));
    expect(walSize(dir)).toBe(grown);
    expect(rowsSeenByAnotherConnection(dir)).toBe(52);
    queue.close();
    db.close();
  });

  it('starts the WAL over after each cycle while writes go on', async () => {
    const { dir, db, queue } = queueOnFile('BLOB', 40);
    db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 4));
    // The WAL header's checkpoint sequence number, which SQLite counts up each time the WAL starts over.
    const restarts = (): number => {
      const fd = fs.openSync(walPathOf(dir), 'r');
      try {
        const header = Buffer.alloc(16);
        fs.readSync(fd, header, 0, 16, 0);
        return header.readUInt32BE(12);
      } finally {
        fs.closeSync(fd);
      }
    };
    const first = restarts();
    let written = 1;
    const writer = setInterval(() => {
      for (let i = 0; i < 4; i++) queue.write(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 4)));
      queue.afterWrite(() => (written += 4));
    }, 1);
    await waitFor(() => queue.stats.checkpoints >= 12, 8000);
    clearInterval(writer);
    expect(queue.stats.checkpoints).toBeGreaterThanOrEqual(12);
    // Without the cycle's last checkpoint, commits made during its fsyncs would always be left in the
    // WAL, and the WAL would never start over but grow with every write.
    expect(restarts() - first).toBeGreaterThanOrEqual(queue.stats.checkpoints / 2);
    queue.close();
    expect(rowsSeenByAnotherConnection(dir)).toBe(written);
    db.close();
  });

  it('finishes a cycle at close: the database file holds everything and the WAL is removed', async () => {
    const { dir, db, queue } = queueOnFile('BLOB', null, 30);
    for (let i = 0; i < 20; i++) queue.write(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 5)));
    queue.afterCommit(() => {});
    queue.flush();
    queue.checkpoint();
    let closed = false;
    queue.afterCommit(() => {
      // Copied (this waited for the same fsync); the database file's fsync is still running.
      expect(rowsInDatabaseFile(dir)).toBe(20);
      db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 6));
      queue.close();
      db.close();
      closed = true;
    });
    await waitFor(() => closed);
    expect(closed).toBe(true);
    expect(fs.existsSync(walPathOf(dir))).toBe(false);
    expect(rowsSeenByAnotherConnection(dir)).toBe(21);
    // Closed while the WAL's own fsync was awaited: nothing copied yet, and still nothing lost.
    const other = queueOnFile('BLOB');
    other.queue.write(() => other.db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4000, 7)));
    other.queue.flush();
    other.queue.checkpoint();
    other.queue.close();
    other.db.close();
    expect(fs.existsSync(walPathOf(other.dir))).toBe(false);
    expect(rowsSeenByAnotherConnection(other.dir)).toBe(1);
  });
});
