// Durable documents: an append-only log of accepted updates per document, compacted into snapshots.

import * as Y from 'yjs';
import { hasTable, statement, type DB } from './db.js';
import type { CommitQueue } from './commit-queue.js';
import type { AuditIntent } from '../audit/audit-log.js';

export interface LoadedDoc {
  doc: Y.Doc;
  updatesSinceSnapshot: number;
  owners: Map<number, string>;
}

/** Log row numbers recorded at a time in `doc_seq` (one small write per this many accepted updates). */
export const SEQ_BLOCK = 100_000;

export class DocStore {
  private readonly q: {
    snapshot: import('better-sqlite3').Statement<[string], { data: Buffer; upto_seq: number }>;
    updates: import('better-sqlite3').Statement<[string, number], { data: Buffer }>;
    maxSeq: import('better-sqlite3').Statement<[string], { m: number | null }>;
    putSnapshot: import('better-sqlite3').Statement<[string, Uint8Array, number, string]>;
    deleteUpTo: import('better-sqlite3').Statement<[string, number]>;
    owners: import('better-sqlite3').Statement<[string], { client_id: number; user_id: string }>;
    addOwner: import('better-sqlite3').Statement<[string, number, string]>;
    forgetIdle: import('better-sqlite3').Statement<[string, string]>;
    exists: import('better-sqlite3').Statement<[string, string], { x: number }>;
    names: import('better-sqlite3').Statement<[], { doc: string }>;
  };
  /**
   * Records the end of the block (see `nextSeq`). Null only for a database opened read-only without
   * the schema, such as a backup from before `doc_seq` being checked: nothing is written to it then.
   */
  private readonly recordBlock: import('better-sqlite3').Statement<[number]> | null;
  /**
   * The next log row's number. One counter for all documents, only ever rising: a snapshot covers a
   * document's rows up to its `upto_seq`, so a number used before (even by rows a compaction has
   * since deleted) must never come back, or a later edit would be read as already in the snapshot.
   * Like the audit chain (AuditLog), it assumes one server process per data directory.
   *
   * Numbers are handed out from a block recorded in `doc_seq`: a row is only ever committed with a
   * number at or below the recorded end (the first row past it records the next block in the same
   * transaction), so a restart continues past that end without reading the log or the snapshots.
   * Finding the highest number in them took a pass over every stored record (the number sits after
   * the snapshot's bytes): for 20,000 records of 8 KB, 40,000 page reads, 76 ms from the page cache
   * and 410 ms from disk, on every start.
   */
  private nextSeq: number;
  /** The end of the block as this process believes it is committed (see `resync`). */
  private reserved: number;

  /**
   * @param beforeCompact runs inside a compaction's transaction before it deletes log rows: the
   *   audit rows kept in them (AuditLog.defer) are written first.
   */
  constructor(private readonly db: DB, private readonly queue: CommitQueue, private readonly beforeCompact: () => void = () => {}) {
    this.q = {
      snapshot: db.prepare('SELECT data, upto_seq FROM doc_snapshots WHERE doc = ?'),
      updates: db.prepare('SELECT data FROM doc_updates WHERE doc = ? AND seq > ? ORDER BY seq'),
      maxSeq: db.prepare('SELECT max(seq) AS m FROM doc_updates WHERE doc = ?'),
      putSnapshot: db.prepare(
        `INSERT INTO doc_snapshots (doc, data, upto_seq, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(doc) DO UPDATE SET data = excluded.data, upto_seq = excluded.upto_seq, updated_at = excluded.updated_at`,
      ),
      deleteUpTo: db.prepare('DELETE FROM doc_updates WHERE doc = ? AND seq <= ?'),
      owners: db.prepare('SELECT client_id, user_id FROM client_owners WHERE doc = ?'),
      addOwner: db.prepare('INSERT OR IGNORE INTO client_owners (doc, client_id, user_id) VALUES (?, ?, ?)'),
      forgetIdle: db.prepare('DELETE FROM client_owners WHERE doc = ? AND client_id NOT IN (SELECT value FROM json_each(?))'),
      exists: db.prepare(
        'SELECT 1 AS x FROM doc_snapshots WHERE doc = ? UNION ALL SELECT 1 FROM doc_updates WHERE doc = ? LIMIT 1',
      ),
      names: db.prepare('SELECT doc FROM doc_snapshots UNION SELECT DISTINCT doc FROM doc_updates'),
    };
    this.recordBlock = hasTable(db, 'doc_seq')
      ? db.prepare('INSERT INTO doc_seq (id, reserved) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET reserved = max(reserved, excluded.reserved)')
      : null;
    this.reserved = recordedSeqEnd(db) ?? -1;
    // A database from before `doc_seq` is read through once; its first new row records a block.
    this.nextSeq = (this.reserved >= 0 ? this.reserved : highestSeq(db)) + 1;
  }

  /**
   * After a failed commit: a block recorded in it was rolled back with it, so the next row records
   * one again. Numbers handed out meanwhile are skipped, never reused.
   */
  resync(): void {
    this.reserved = recordedSeqEnd(this.db) ?? -1;
  }

  exists(docName: string): boolean {
    return this.q.exists.get(docName, docName) !== undefined;
  }

  docNames(): string[] {
    return this.q.names.all().map((r) => r.doc);
  }

  /** Reads a document back: its snapshot, then every update logged after it, in order. */
  load(docName: string): LoadedDoc {
    // Named after the record: without a guid, Y.Doc draws a random UUID with one crypto call per
    // hex digit, about 85 µs. A record of 20 small updates then took 140 µs to read back, not 90.
    const doc = new Y.Doc({ gc: true, guid: docName });
    const snap = this.q.snapshot.get(docName);
    const updates = this.q.updates.all(docName, snap?.upto_seq ?? 0);
    doc.transact(() => {
      if (snap) Y.applyUpdate(doc, snap.data);
      for (const u of updates) Y.applyUpdate(doc, u.data);
    });
    const owners = new Map<number, string>();
    for (const r of this.q.owners.all(docName)) owners.set(r.client_id, r.user_id);
    return { doc, updatesSinceSnapshot: updates.length, owners };
  }

  /**
   * Queues an accepted update, with the audit rows to write for it (`audit`) kept in its row until
   * they are written; it is on disk once the queue's next batch commits.
   */
  append(docName: string, update: Uint8Array, audit: AuditIntent | null = null): void {
    this.queue.write(() => {
      const seq = this.nextSeq++;
      if (seq > this.reserved) {
        this.recordBlock!.run(seq + SEQ_BLOCK);
        this.reserved = seq + SEQ_BLOCK;
      }
      // Prepared on first use: a database opened only to be read (checks) may be from before `audit`.
      statement(this.db, 'INSERT INTO doc_updates (doc, seq, data, audit) VALUES (?, ?, ?, ?)').run(docName, seq, update, audit?.text ?? null);
      audit?.stored(seq);
    });
  }

  /**
   * Forgets who claimed editing sessions that never wrote to the record (a tab that announced itself
   * and closed without an edit): only `editors`' claims are kept. For a record nobody has open, or
   * every reconnect would add rows for good.
   */
  forgetIdleSessions(docName: string, editors: number[]): void {
    this.queue.write(() => {
      this.q.forgetIdle.run(docName, JSON.stringify(editors));
    });
  }

  recordOwner(docName: string, clientId: number, userId: string): void {
    this.queue.write(() => {
      this.q.addOwner.run(docName, clientId, userId);
    });
  }

  /**
   * Replaces the log with a snapshot of `doc`. Queued behind every update already applied to `doc`,
   * so the snapshot covers exactly the rows it deletes.
   */
  compact(docName: string, doc: Y.Doc): void {
    const state = Y.encodeStateAsUpdate(doc);
    this.queue.write(() => {
      this.beforeCompact();
      const upto = this.q.maxSeq.get(docName)?.m ?? 0;
      const prev = this.q.snapshot.get(docName)?.upto_seq ?? 0;
      this.q.putSnapshot.run(docName, state, Math.max(upto, prev), new Date().toISOString());
      if (upto > 0) this.q.deleteUpTo.run(docName, upto);
    });
  }

  /** Size on disk of a document's snapshot and log, for admin stats. */
  sizeOf(docName: string): { snapshotBytes: number; logBytes: number; logRows: number } {
    const s = this.db.prepare('SELECT length(data) AS n FROM doc_snapshots WHERE doc = ?').get(docName) as
      | { n: number }
      | undefined;
    const l = this.db
      .prepare('SELECT count(*) AS c, coalesce(sum(length(data)),0) AS n FROM doc_updates WHERE doc = ?')
      .get(docName) as { c: number; n: number };
    return { snapshotBytes: s?.n ?? 0, logBytes: l.n, logRows: l.c };
  }
}

/**
 * The highest row number the log or a snapshot has used: a pass over every stored record (the
 * snapshot's number sits after its bytes). Only for databases without a recorded block, and checks.
 */
export function highestSeq(db: DB): number {
  return (db.prepare(
    'SELECT max(coalesce((SELECT max(seq) FROM doc_updates), 0), coalesce((SELECT max(upto_seq) FROM doc_snapshots), 0)) AS m',
  ).get() as { m: number }).m;
}

/** The end of the recorded block, or null in a database from before it (read-only, for checks). */
export function recordedSeqEnd(db: DB): number | null {
  if (!hasTable(db, 'doc_seq')) return null;
  return (db.prepare('SELECT reserved FROM doc_seq WHERE id = 1').get() as { reserved: number } | undefined)?.reserved ?? null;
}
