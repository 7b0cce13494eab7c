// Group commit: writes queued during one turn of the event loop share one SQLite transaction (one
// fsync); callbacks that acknowledge or fan out run only after that transaction is on disk.

import type { DB } from './db.js';

type AfterCommit = (err: Error | null) => void;

export class CommitQueue {
  private writes: (() => void)[] = [];
  private after: AfterCommit[] = [];
  private scheduled = false;
  private readonly runBatch: (writes: (() => void)[]) => void;
  /** Figures for metrics and benchmarks. */
  readonly stats = { batches: 0, writes: 0, failures: 0 };

  constructor(db: DB, private readonly onError: (err: Error) => void = () => {}) {
    this.runBatch = db.transaction((writes: (() => void)[]) => {
      for (const w of writes) w();
    });
  }

  write(fn: () => void): void {
    this.writes.push(fn);
    this.schedule();
  }

  /** Runs `fn` once everything queued so far is committed (at once if nothing is pending). */
  afterCommit(fn: AfterCommit): void {
    if (this.writes.length === 0 && !this.scheduled) {
      fn(null);
      return;
    }
    this.after.push(fn);
    this.schedule();
  }

  get pending(): number {
    return this.writes.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits now. Safe to call at any time (shutdown, tests). */
  flush(): void {
    this.scheduled = false;
    const writes = this.writes;
    const after = this.after;
    this.writes = [];
    this.after = [];
    let error: Error | null = null;
    if (writes.length > 0) {
      try {
        this.runBatch(writes);
        this.stats.batches++;
        this.stats.writes += writes.length;
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
        this.stats.failures++;
        this.onError(error);
      }
    }
    for (const fn of after) fn(error);
  }
}
