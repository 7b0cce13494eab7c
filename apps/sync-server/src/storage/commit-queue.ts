// Group commit: writes queued during one turn of the event loop share one SQLite transaction.
// Writes queued with `writeLater` are not needed before anything is sent or acknowledged (the audit
// rows of edits, whose content is already stored with the edit: see AuditLog.defer). They commit
// together, `laterMs` after the first of them (or with any `flush`), not in every small commit: an
// edit committed on its own before it is sent on does not also pay for writing them, and the pages
// they change (the audit table's and its indexes') are written to the WAL once for many edits
// instead of once for each.
// Two kinds of callbacks: afterWrite once the transaction is committed (in the WAL: safe from a
// crash of this process), afterCommit once it is also fsynced (safe from a power
// cut; "saved" acknowledgements wait for this).
//
// A batch is also committed early once it has been open for `maxBatchMs` (the server: 1 ms; see
// flushIfDue). After the loop was held up, a whole backlog of messages arrives in one turn, and the
// first of them would otherwise wait for the checks of all the others before anyone sees it.
//
// Durability without stalling the event loop: SQLite commits without syncing (WAL, synchronous=NORMAL)
// and the queue then fsyncs the WAL file itself on libuv's thread pool. Callbacks wait for an fsync
// that started after their commit, so an acknowledged write survives a power cut, while the loop keeps
// reading, checking and committing the next messages. Only one fsync is in flight; everything committed
// meanwhile rides on the next one. Under steady load `syncGapMs` spaces fsyncs out (the server: at
// least 20 ms from one start to the next): each one wakes a pool thread, and the kernel's work for it
// runs on the core the event loop uses. At 5 ms apart, paired benchmark runs delivered fan-out with a
// worse p99 than at 20 or 50 ms in 5 of 6 rounds. An edit's "saved" can come that much later (a
// lone edit is synced at once); its fan-out does not wait for the fsync at all.
//
// Checkpoints copy the WAL back into the database file. SQLite would start one every 1,000 WAL pages,
// which under steady load is several times a second; with `checkpointEveryMs` the queue runs a passive
// one on a timer instead (the server: every 5 s). SQLite's own checkpoint fsyncs the database file on
// the event loop: under 500 edits/s that took 9 ms on average and once 218 ms, and every room waited.
// So when the queue syncs the WAL itself, a checkpoint is a cycle (see checkpoint()):
//   1. a second, read-only connection starts a read, so the WAL cannot start over (a writer may only
//      overwrite it from the top once no reader is using it);
//   2. once the next fsync of the WAL (on the pool, as for any commit) is done, the frames the reader
//      can see, all of them now on disk in the WAL, are copied into the database file without
//      SQLite's syncs (a reader holds back any checkpoint at the end of what it reads);
//   3. the database file is fsynced on the thread pool;
//   4. the reader ends, and SQLite's own checkpoint, syncs included, copies what was committed since
//      step 1 (a few commits), so the next write can start the WAL over.
// Only the copy in step 2 and the small checkpoint in step 4 run on the event loop: under 500
// edits/s the copy took about 4 ms (at most 9 ms), step 4 about 0.1 ms, and the fsync in step 3 up to
// 116 ms, which every room used to wait for.
// A copied page is on disk in the WAL before it is written to the database file, and the WAL keeps it
// until the database file is synced: a power cut at any step leaves SQLite a WAL to recover from.
//
// Once the WAL starts over, each commit overwrites parts of file pages, which the kernel must read
// back from disk first if they have left the page cache; with `warmWal`, a WalWarmer (wal-warmer.ts)
// reads them in on the thread pool ahead of SQLite. With `checkpointAtWalBytes` a checkpoint also
// starts once SQLite writes that far into the WAL (at most every 500 ms): under heavy load the WAL
// then stays small and each of its pages is rewritten within a second or so, which keeps it in the
// page cache. The benchmark machine pages out file pages touched less than about once in 5 s (its
// kernel's DAMON, with a pageout scheme; README "Persist before acknowledging").

import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { DB } from './db.js';
import { WalWarmer, type WalWarmerOptions } from './wal-warmer.js';
import { asError } from './as-error.js';

type AfterCommit = (err: Error | null) => void;

export interface CommitQueueOptions {
  /** Told about failed commits and fsyncs. */
  onError?: (err: Error) => void;
  /** Told about a callback that threw (the others still run). */
  onCallbackError?: (err: Error) => void;
  /**
   * The database's WAL file, to fsync after each commit; null when commits need not reach the disk
   * before they are acknowledged (SQLITE_SYNCHRONOUS=NORMAL: safe against process crashes).
   */
  walPath?: string | null;
  /** Run a passive checkpoint on this timer instead of SQLite's page count (null: SQLite's). */
  checkpointEveryMs?: number | null;
  /** Least time from one fsync's start to the next. */
  syncGapMs?: number;
  /** How long a batch may stay open before `flushIfDue` commits it early. */
  maxBatchMs?: number;
  /** How long writes queued with `writeLater` may wait for their commit (0: the next time timers run). */
  laterMs?: number;
  /** Keep part of the WAL ahead of SQLite's next write read in (see wal-warmer.ts); null: don't. */
  warmWal?: WalWarmerOptions | null;
  /** Also checkpoint once SQLite's next WAL write is this far into the file (needs `warmWal`). */
  checkpointAtWalBytes?: number | null;
}

/** Least time between two checkpoints started by the WAL's size (one that cannot restart it would repeat). */
const SIZE_CHECKPOINT_GAP_MS = 500;

export class CommitQueue {
  private writes: (() => void)[] = [];
  /** Writes for a commit `laterMs` after the first of them (or any `flush`). */
  private later: (() => void)[] = [];
  private laterTimer: NodeJS.Timeout | null = null;
  /** Waiting for the open batch to commit. */
  private committed: AfterCommit[] = [];
  /** Waiting for the open batch to commit and reach the disk. */
  private after: AfterCommit[] = [];
  private seq = 0;
  private scheduled: NodeJS.Immediate | null = null;
  /** When the first write of the open batch was queued. */
  private openedAt = 0;
  /** Committed, waiting for an fsync that starts after their commit. */
  private unsynced: AfterCommit[] = [];
  /** Covered by the fsync in flight. */
  private syncing: AfterCommit[] | null = null;
  private walFd: number | null = null;
  private lastSyncStart = -Infinity;
  private syncTimer: NodeJS.Timeout | null = null;
  private readonly runBatch: (writes: (() => void)[]) => void;
  /** Figures for metrics and benchmarks. */
  readonly stats = { batches: 0, writes: 0, failures: 0, fsyncs: 0, checkpoints: 0 };

  private checkpointTimer: NodeJS.Timeout | null = null;
  /** Holds the WAL from step 1 of a checkpoint cycle until the database file is synced (null between cycles). */
  private holder: { db: DB; begin: Database.Statement; read: Database.Statement; end: Database.Statement } | null = null;
  /** Where a checkpoint cycle is: waiting for the WAL's fsync, for the database file's, or for a retry of that. */
  private cycle: 'idle' | 'wal' | 'db' | 'db-failed' = 'idle';
  /** The database file, for its fsync in step 3. */
  private dbFd: number | null = null;
  private closed = false;
  /** Running the callbacks of a commit (a nested early commit would reorder them). */
  private flushing = false;
  private readonly onError: (err: Error) => void;
  private readonly onCallbackError: (err: Error) => void;
  private readonly walPath: string | null;
  private readonly syncGapMs: number;
  private readonly maxBatchMs: number;
  private readonly laterMs: number;
  /** Null unless `warmWal` is given. */
  readonly warmer: WalWarmer | null;
  private readonly checkpointAtWalBytes: number | null;
  private lastSizeCheckpoint = -Infinity;
  private lastSizeLook = -Infinity;

  constructor(private readonly db: DB, options: CommitQueueOptions = {}) {
    this.onError = options.onError ?? (() => {});
    this.onCallbackError = options.onCallbackError ?? (() => {});
    this.walPath = options.walPath ?? null;
    this.syncGapMs = options.syncGapMs ?? 0;
    this.maxBatchMs = options.maxBatchMs ?? Infinity;
    this.laterMs = options.laterMs ?? 0;
    const checkpointEveryMs = options.checkpointEveryMs ?? null;
    this.warmer = options.warmWal ? new WalWarmer(db.name, options.warmWal) : null;
    this.checkpointAtWalBytes = options.checkpointAtWalBytes ?? null;
    this.runBatch = db.transaction((writes: (() => void)[]) => {
      for (const w of writes) w();
    });
    if (checkpointEveryMs !== null) {
      db.pragma('wal_autocheckpoint = 0');
      this.checkpointTimer = setInterval(() => this.checkpoint(), checkpointEveryMs);
      this.checkpointTimer.unref();
    }
  }

  /**
   * Copies committed WAL pages into the database file, without waiting for readers or writers. It
   * fsyncs the WAL first, so writes made outside the queue (sign-ins, accounts, workflow) reach the
   * disk within one period even when no record changes. When the queue syncs the WAL itself, both
   * fsyncs run off the loop (the cycle at the top of this file); the next cycle starts only once this
   * one is done, and one whose database file fsync failed holds the WAL until a retry succeeds.
   */
  checkpoint(): void {
    if (!this.db.open || this.closed || this.cycle === 'wal' || this.cycle === 'db') return;
    if (this.cycle === 'db-failed') return this.syncDatabaseFile();
    this.warmer?.beforeRestart();
    if (this.wal() === null) return this.checkpointWithSyncs();
    try {
      this.holdWal();
    } catch (e) {
      this.onError(asError(e));
      return this.checkpointWithSyncs();
    }
    this.cycle = 'wal';
    this.unsynced.push((err) => this.copyHeldFrames(err));
    this.startSync();
  }

  /** Step 2, then 3. */
  private copyHeldFrames(err: Error | null): void {
    if (this.closed || !this.db.open || err) {
      // Nothing copied: close() or the next tick's SQLite checkpoint does it, with its own syncs.
      this.cycle = 'idle';
      this.releaseWal();
      return;
    }
    try {
      const level = this.db.pragma('synchronous', { simple: true }) as number;
      this.db.pragma('synchronous = OFF');
      try {
        this.db.pragma('wal_checkpoint(PASSIVE)');
      } finally {
        this.db.pragma(`synchronous = ${level}`);
      }
    } catch (e) {
      this.onError(asError(e));
    }
    this.syncDatabaseFile();
  }

  /** SQLite's passive checkpoint, with its fsyncs of the WAL and of the database file on the loop. */
  private checkpointWithSyncs(): void {
    try {
      const [r] = this.db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      if (r && r.checkpointed > 0) this.stats.checkpoints++;
    } catch (e) {
      this.onError(asError(e));
    }
  }

  /** Step 1: a read on the second connection, which keeps every writer appending to the WAL. */
  private holdWal(): void {
    if (this.holder === null) {
      const db = new Database(this.db.name, { readonly: true, fileMustExist: true, timeout: 1000 });
      db.pragma('cache_size = 8');
      this.holder = { db, begin: db.prepare('BEGIN'), read: db.prepare('SELECT count(*) FROM sqlite_schema'), end: db.prepare('COMMIT') };
    }
    this.holder.begin.run();
    try {
      this.holder.read.get();
    } catch (e) {
      this.releaseWal();
      throw e;
    }
  }

  private releaseWal(): void {
    if (this.holder?.db.open && this.holder.db.inTransaction) this.holder.end.run();
  }

  /** Steps 3 and 4. */
  private syncDatabaseFile(): void {
    try {
      this.dbFd ??= fs.openSync(this.db.name, 'r');
    } catch (e) {
      this.onError(asError(e));
      this.cycle = 'db-failed';
      return;
    }
    this.cycle = 'db';
    fs.fdatasync(this.dbFd, (err) => {
      if (this.closed) {
        this.cycle = 'idle';
        this.closeDbFile();
        return;
      }
      if (err) {
        this.onError(err);
        this.cycle = 'db-failed'; // still holding the WAL: the next tick retries
        return;
      }
      this.cycle = 'idle';
      try {
        this.releaseWal();
      } catch (e) {
        this.onError(asError(e));
        return;
      }
      if (this.db.open) this.checkpointWithSyncs();
    });
  }

  private closeDbFile(): void {
    if (this.dbFd !== null && this.cycle !== 'db') {
      fs.closeSync(this.dbFd);
      this.dbFd = null;
    }
  }

  write(fn: () => void): void {
    if (this.closed) throw new Error('The server is shutting down; the change was not saved');
    if (this.writes.length === 0) this.openedAt = performance.now();
    this.writes.push(fn);
    this.schedule();
  }

  /**
   * Queues a write that must commit, but need not before anything waiting on the open batch goes
   * out: it commits `laterMs` after the first such write, or with an earlier `flush`.
   */
  writeLater(fn: () => void): void {
    if (this.closed) throw new Error('The server is shutting down; the change was not saved');
    this.later.push(fn);
    if (this.laterTimer === null) this.commitLaterIn(this.laterMs);
  }

  private commitLaterIn(ms: number): void {
    this.laterTimer = setTimeout(() => {
      this.laterTimer = null;
      if (this.closed || !this.db.open) return;
      // Inside a caller's own transaction this would be a savepoint, not a commit: try again soon.
      if (this.db.inTransaction || this.flushing) this.commitLaterIn(1);
      else this.flush();
    }, ms);
    this.laterTimer.unref();
  }

  /**
   * Commits the open batch now if its first write has waited `maxBatchMs` or more; otherwise it
   * commits at the end of this turn of the loop as usual. Never from inside a commit's callbacks or
   * another transaction (there it would be a savepoint, not a commit). Writes queued with
   * `writeLater` wait for the end of the turn.
   */
  flushIfDue(): void {
    if (this.writes.length === 0 || this.flushing || this.db.inTransaction) return;
    if (performance.now() - this.openedAt >= this.maxBatchMs) this.commit(false);
  }

  /**
   * Commits the open batch now, so that everything waiting on it can go out. Not from inside
   * another transaction or a commit's callbacks (see flushIfDue): there the batch commits as usual.
   * Writes queued with `writeLater` wait for the end of the turn.
   */
  commitOpenBatch(): void {
    if (this.writes.length > 0 && !this.flushing && !this.db.inTransaction) this.commit(false);
  }

  /**
   * The batch that must commit before everything queued so far is committed: the open one while
   * writes wait, else the last one (already committed).
   */
  get batch(): number {
    return this.writes.length > 0 || this.scheduled !== null ? this.seq : this.seq - 1;
  }

  /**
   * Runs `fn` once everything queued so far is committed: readable by any query and safe from a
   * crash of this process, not yet from a power cut (at once if nothing is queued).
   */
  afterWrite(fn: AfterCommit): void {
    if (this.writes.length > 0 || this.scheduled !== null) {
      this.committed.push(fn);
      this.schedule();
    } else fn(null);
  }

  /** Runs `fn` once everything queued or committed so far is on disk (at once if nothing is pending). */
  afterCommit(fn: AfterCommit): void {
    if (this.writes.length > 0 || this.scheduled !== null) {
      this.after.push(fn);
      this.schedule();
    } else if (this.unsynced.length > 0 || this.syncing !== null) {
      this.unsynced.push(fn);
      this.startSync();
    } else fn(null);
  }

  /**
   * Resolves once everything queued or committed so far is on disk, written through the queue or
   * straight to the database (an HTTP request's own statements): the WAL is fsynced after this call
   * even when the queue has nothing of its own waiting. Rejects if that commit or fsync failed.
   */
  whenDurable(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fn: AfterCommit = (err) => (err ? reject(err) : resolve());
      if (this.writes.length > 0 || this.scheduled !== null) {
        this.after.push(fn);
        this.schedule();
      } else {
        this.unsynced.push(fn);
        this.startSync();
      }
    });
  }

  get pending(): number {
    return this.writes.length;
  }

  private schedule(): void {
    if (this.scheduled !== null) return;
    // Writes queued with writeLater wait for their own timer (or an explicit flush).
    this.scheduled = setImmediate(() => this.commit(false));
  }

  /** Commits everything queued now (readable by any query at once); callbacks follow once it is on disk. */
  flush(): void {
    this.commit(true);
  }

  /** Commits the open batch, with the writes queued for later too when `all`. */
  private commit(all: boolean): void {
    let writes = this.writes;
    if (all && this.later.length > 0) {
      writes = writes.concat(this.later);
      this.later = [];
      if (this.laterTimer !== null) clearTimeout(this.laterTimer);
      this.laterTimer = null;
    }
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const committed = this.committed;
    const after = this.after;
    this.writes = [];
    this.committed = [];
    this.after = [];
    this.seq++;
    if (writes.length > 0) {
      try {
        this.runBatch(writes);
        this.stats.batches++;
        this.stats.writes += writes.length;
        this.warmer?.nudge();
      } catch (e) {
        const error = asError(e);
        this.stats.failures++;
        this.onError(error);
        this.run(committed, error);
        this.run(after, error);
        return;
      }
    }
    this.run(committed, null);
    if (after.length > 0) {
      this.unsynced.push(...after);
      this.startSync();
    }
    if (this.checkpointAtWalBytes !== null && this.warmer !== null) this.checkpointIfWalLong(this.checkpointAtWalBytes, this.warmer);
  }

  /** Starts a checkpoint once SQLite writes `limit` bytes or more into the WAL; looks at most every 50 ms. */
  private checkpointIfWalLong(limit: number, warmer: WalWarmer): void {
    const now = performance.now();
    if (now - this.lastSizeCheckpoint < SIZE_CHECKPOINT_GAP_MS || now - this.lastSizeLook < 50) return;
    this.lastSizeLook = now;
    // Read now, not the warmer's last look: that may be from before the WAL started over.
    const at = warmer.position();
    if (at === null || at.pos < limit) return;
    this.lastSizeCheckpoint = now;
    this.checkpoint();
  }

  /**
   * One callback that throws must not cost the others their turn: those waiting on the same batch
   * would never be sent on or acknowledged.
   */
  private run(callbacks: AfterCommit[], err: Error | null): void {
    this.flushing = true;
    for (const fn of callbacks) {
      try {
        fn(err);
      } catch (e) {
        this.onCallbackError(asError(e));
      }
    }
    this.flushing = false;
  }

  private startSync(): void {
    if (this.syncing !== null || this.syncTimer !== null || this.unsynced.length === 0) return;
    const wait = this.lastSyncStart + this.syncGapMs - performance.now();
    if (wait > 0) {
      this.syncTimer = setTimeout(() => {
        this.syncTimer = null;
        this.startSync();
      }, wait);
      return;
    }
    const fd = this.wal();
    const batch = this.unsynced;
    this.unsynced = [];
    if (fd === null) {
      this.run(batch, null);
      return;
    }
    this.syncing = batch;
    this.stats.fsyncs++;
    this.lastSyncStart = performance.now();
    fs.fdatasync(fd, (err) => {
      // close() has synced and answered these already (and closed the file under this fsync).
      if (this.closed) return;
      this.syncing = null;
      if (err) this.onError(err);
      this.run(batch, err);
      this.startSync();
    });
  }

  private wal(): number | null {
    if (this.walPath === null) return null;
    if (this.walFd === null) {
      try {
        this.walFd = fs.openSync(this.walPath, 'r');
      } catch {
        return null; // no WAL yet: nothing has been written, so nothing needs syncing
      }
    }
    return this.walFd;
  }

  /** At shutdown: commit what is queued, sync it, and answer every waiting callback. */
  close(): void {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (this.laterTimer) clearTimeout(this.laterTimer);
    this.laterTimer = null;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    this.flush();
    this.closed = true;
    const waiting = [...(this.syncing ?? []), ...this.unsynced];
    this.unsynced = [];
    const fd = this.wal();
    let err: Error | null = null;
    try {
      if (fd !== null) fs.fdatasyncSync(fd);
    } catch (e) {
      err = asError(e);
    }
    for (const fn of waiting) fn(err);
    if (this.walFd !== null) fs.closeSync(this.walFd);
    this.walFd = null;
    // A checkpoint cycle in its step 3: the database file is synced here, and the reader let go, so
    // that closing the database can checkpoint the rest and remove the WAL.
    try {
      if (this.holder?.db.inTransaction && this.dbFd !== null) fs.fdatasyncSync(this.dbFd);
      this.releaseWal();
    } catch (e) {
      this.onError(asError(e));
    }
    this.holder?.db.close();
    this.holder = null;
    this.closeDbFile();
    this.warmer?.close();
  }
}
