// The audit trail: append-only rows, each carrying the hash of the one before, so any edit or
// deletion of a past row breaks the chain at that row.
//
// An accepted edit's rows are not written in the transaction that stores the edit, which commits
// before the edit goes to the colleagues on the record: writing them there (three b-trees, and the
// hash) was about half of that commit. Their content goes into the edit's own log row instead
// (`doc_updates.audit`, see defer), and the rows are written from it in the commit at the end of the
// same turn of the loop. `audit_upto` says up to which log row they are written: after a crash in
// between, the server writes the rest from the log rows when it starts (catchUp), and a compaction,
// which deletes log rows, writes them first.

import { hash } from 'node:crypto';
import { jsonText } from '@pamoja/schema';
import { hasTable, statement, type DB } from '../storage/db.js';
import type { CommitQueue } from '../storage/commit-queue.js';
import type { Actor } from '../gate/actor.js';
import { nextTurn } from '../next-turn.js';

export type AuditOutcome = 'applied' | 'reverted-forbidden' | 'conflict' | 'ok' | 'denied' | 'error';

export interface AuditEntry {
  action: string;
  outcome: AuditOutcome;
  patientId?: string | null;
  visitId?: string | null;
  path?: string | null;
  oldValue?: unknown;
  newValue?: unknown;
  detail?: string | null;
}

export interface AuditRow {
  id: number;
  at: string;
  user_id: string | null;
  username: string | null;
  role: string | null;
  device: string | null;
  ip: string | null;
  user_agent: string | null;
  patient_id: string | null;
  visit_id: string | null;
  action: string;
  path: string | null;
  old_value: string | null;
  new_value: string | null;
  outcome: string;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

export type VerifyResult = { ok: true; rows: number } | { ok: false; rows: number; badRowId: number; problem: string };
const HASHED: (keyof Omit<AuditRow, 'hash'>)[] = [
  'id', 'at', 'user_id', 'username', 'role', 'device', 'ip', 'user_agent', 'patient_id', 'visit_id',
  'action', 'path', 'old_value', 'new_value', 'outcome', 'detail', 'prev_hash',
];

/** The values a row's hash covers, in a fixed order (also the INSERT's parameters). */
const hashedValues = (row: Omit<AuditRow, 'hash'>): unknown[] => HASHED.map((k) => row[k] ?? null);

// One-shot hashing: no Hash object per row (every accepted change writes at least one).
const hashValues = (values: unknown[]): string => hash('sha256', JSON.stringify(values), 'hex');

export function rowHash(row: Omit<AuditRow, 'hash'>): string {
  return hashValues(hashedValues(row));
}

/**
 * A value as its row holds it: text as is, anything else as JSON. Never throws: rows are written
 * inside the commit batch, where one row that failed (a BigInt someone tried to store) would roll
 * back everyone's changes in it, on every record; what JSON cannot write is written as text.
 */
export const auditText = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : jsonText(v));

/** Rows of text and notes hold a summary of keystrokes, not a value: those stay one per update. */
const TEXT_UNIT = /^visits\/[^/]+\/(assessment|notes)$/;

interface PendingRow {
  actor: RecordedActor | null;
  at: string;
  entry: AuditEntry;
}

/** Audit rows kept in an edit's log row until they are written (AuditLog.defer). */
export interface AuditIntent {
  /** What the log row holds (JSON; see intentText). */
  readonly text: string;
  /** Called by the log's write once the row is in the open transaction, with its number. */
  stored(seq: number): void;
}

/** The part of an actor an audit row records. */
type RecordedActor = Pick<Actor, 'userId' | 'username' | 'role' | 'device' | 'ip' | 'userAgent'>;

interface StoredIntent {
  seq: number;
  actor: RecordedActor | null;
  at: string;
  entries: AuditEntry[];
}

/** An entry with its values as its row will hold them (text), so they are encoded once. */
const asRowText = (e: AuditEntry): AuditEntry => ({
  action: e.action, outcome: e.outcome, patientId: e.patientId ?? null, visitId: e.visitId ?? null, path: e.path ?? null,
  oldValue: auditText(e.oldValue), newValue: auditText(e.newValue), detail: auditText(e.detail),
});

/** An intent as its log row holds it: the time, who, and each row's values (`entries` as asRowText gives them). */
function intentText(actor: Actor | null, at: string, entries: AuditEntry[]): string {
  const who = actor && [actor.userId, actor.username, actor.role, actor.device, actor.ip, actor.userAgent];
  const rows = entries.map((e) => [e.action, e.outcome, e.patientId, e.visitId, e.path, e.oldValue, e.newValue, e.detail]);
  return JSON.stringify({ at, who, rows });
}

function readIntent(seq: number, text: string): StoredIntent {
  const { at, who, rows } = JSON.parse(text) as { at: string; who: (string | null)[] | null; rows: (string | null)[][] };
  const actor: RecordedActor | null = who && {
    userId: who[0]!, username: who[1]!, role: who[2] as Actor['role'], device: who[3] ?? null, ip: who[4] ?? null, userAgent: who[5] ?? null,
  };
  const entries = rows.map(([action, outcome, patientId, visitId, path, oldValue, newValue, detail]): AuditEntry => ({
    action: action!, outcome: outcome as AuditOutcome, patientId, visitId, path, oldValue, newValue, detail,
  }));
  return { seq, actor, at, entries };
}

/**
 * Rows that may absorb later changes in the same batch: applied value changes, keyed by person,
 * device and field. Text and notes rows (keystroke summaries) and everything else stay apart.
 */
function mergeKey(a: RecordedActor | null, e: AuditEntry): string | null {
  if (e.action !== 'UPDATE' || e.outcome !== 'applied' || !e.path || TEXT_UNIT.test(e.path)) return null;
  return `${a?.userId}\u0000${a?.device}\u0000${a?.ip}\u0000${e.patientId}\u0000${e.path}`;
}

export class AuditLog {
  private lastId: number;
  private lastHash: string;
  private readonly insert: import('better-sqlite3').Statement<unknown[]>;
  /** Rows written since start, for metrics. */
  written = 0;

  constructor(private readonly db: DB, private readonly queue: CommitQueue) {
    const last = db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
    this.lastId = last?.id ?? 0;
    this.lastHash = last?.hash ?? GENESIS;
    this.insert = db.prepare(
      `INSERT INTO audit (id, at, user_id, username, role, device, ip, user_agent, patient_id, visit_id, action, path,
        old_value, new_value, outcome, detail, prev_hash, hash) VALUES (${HASHED.map(() => '?').join(', ')}, ?)`,
    );
  }

  /**
   * After a failed commit: the rows written in it are gone, so the chain continues from the database,
   * and so do the intents still to write (those of log rows rolled back with it are gone too).
   */
  resync(): void {
    const last = this.db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
    this.lastId = last?.id ?? 0;
    this.lastHash = last?.hash ?? GENESIS;
    this.unwritten = this.storedIntents();
    // The write queued for them may have been in the failed batch: queue one again (a second one
    // that finds nothing to write does nothing).
    this.laterQueued = false;
    if (this.unwritten.length > 0) this.writeLater();
  }

  /** Intents in the log whose rows are not written (none in a database from before intents). */
  storedIntents(): StoredIntent[] {
    if (!hasTable(this.db, 'audit_upto')) return [];
    const rows = statement(this.db, `SELECT seq, audit FROM doc_updates
      WHERE audit IS NOT NULL AND seq > coalesce((SELECT seq FROM audit_upto WHERE id = 1), 0) ORDER BY seq`).all() as { seq: number; audit: string }[];
    return rows.map((r) => readIntent(r.seq, r.audit));
  }

  /**
   * At start: writes the rows of edits stored before the server stopped without writing them (a
   * crash between an edit's commit and the end of its turn). Returns how many edits had some.
   */
  catchUp(): number {
    this.unwritten = this.storedIntents();
    const n = this.unwritten.length;
    if (n > 0) this.db.transaction(() => this.writeIntents())();
    return n;
  }

  /**
   * Rows for an accepted edit, to be kept in its log row (DocStore.append) and written from there at
   * the end of the turn: the same rows `record` would write in the edit's own commit.
   */
  defer(actor: Actor, entries: AuditEntry[]): AuditIntent | null {
    if (entries.length === 0) return null;
    const at = new Date().toISOString();
    this.writeLater();
    this.deferredSinceGroup = true;
    const rows = entries.map(asRowText);
    return {
      text: intentText(actor, at, rows),
      stored: (seq) => {
        this.unwritten.push({ seq, actor, at, entries: rows });
      },
    };
  }

  private writeLater(): void {
    if (this.laterQueued) return;
    this.laterQueued = true;
    this.queue.writeLater(() => {
      this.laterQueued = false;
      this.writeIntents();
    });
  }

  /**
   * Writes the rows kept in log rows and not yet written, inside the running transaction: the
   * commit `laterMs` after an edit, and a compaction before it deletes log rows.
   */
  writeIntents(): void {
    this.writeRows([]);
  }

  /** Entries waiting for the next commit batch, hashed and written inside it. */
  private pending: PendingRow[] = [];
  private readonly mergeIndex = new Map<string, PendingRow>();
  /**
   * Intents in log rows (committed, or in the transaction being run) whose rows are not written yet,
   * in the order of their log rows. After a failed commit, read again from the database (resync).
   */
  private unwritten: StoredIntent[] = [];
  /** A write of the unwritten intents is queued (CommitQueue.writeLater). */
  private laterQueued = false;
  /** An edit's rows were deferred since the open group of `record` rows began (see record). */
  private deferredSinceGroup = false;

  /**
   * Queues rows; they commit in the same transaction as the updates they describe. Consecutive
   * changes by the same person to the same map field within one commit batch (a few milliseconds)
   * become one row, first old value to last new value: a nurse's burst of keystrokes is one change.
   */
  record(actor: Actor | null, entries: AuditEntry[]): void {
    if (entries.length === 0) return;
    // Rows recorded together are written where the first of them stands in the batch, after the
    // kept rows of every edit stored before that point. An edit deferred since then starts a new
    // group, written after that edit's log row: a colleague opening the record after the nurse's
    // edit is chained after it, not with a row from before it.
    if (this.pending.length === 0 || this.deferredSinceGroup) {
      const group: PendingRow[] = [];
      this.pending = group;
      this.mergeIndex.clear();
      this.deferredSinceGroup = false;
      this.queue.write(() => this.writeRows(group));
    }
    this.add(actor, new Date().toISOString(), entries);
  }

  /** Adds rows to the open group, merging a field's burst of changes (see record). */
  private add(actor: RecordedActor | null, at: string, entries: AuditEntry[]): void {
    for (const entry of entries) {
      const key = mergeKey(actor, entry);
      const earlier = key ? this.mergeIndex.get(key) : undefined;
      if (earlier) {
        const e = earlier.entry; // a new object (not spread: see Room.enqueueOut), the caller's stays as it was
        earlier.entry = {
          action: e.action, outcome: e.outcome, patientId: e.patientId, visitId: e.visitId, path: e.path,
          oldValue: e.oldValue, newValue: entry.newValue, detail: e.detail,
        };
        earlier.at = at;
        continue;
      }
      const p = { actor, at, entry };
      this.pending.push(p);
      if (key) this.mergeIndex.set(key, p);
    }
  }

  /** Writes the kept rows not yet written, then `group` (a group of `record` rows, written once). */
  private writeRows(group: PendingRow[]): void {
    if (group === this.pending) {
      // Recorded from now on: a new group.
      this.pending = [];
      this.mergeIndex.clear();
    }
    const intents = this.unwritten;
    let pending = group;
    if (intents.length > 0) {
      // Rows kept in log rows come first, so the chain stays in the order things happened (a
      // hand-off made in the record, then one made over HTTP). Each edit's rows as they are: edits
      // committed apart are apart in the audit too (keystrokes read in one turn come as one edit).
      const kept: PendingRow[] = [];
      for (const i of intents) for (const entry of i.entries) kept.push({ actor: i.actor, at: i.at, entry });
      pending = kept.concat(pending);
      this.unwritten = [];
    }
    if (pending.length === 0) return;
    for (const { actor, at, entry: e } of pending) {
      const base: Omit<AuditRow, 'hash'> = {
        id: ++this.lastId, at,
        user_id: actor?.userId ?? null, username: actor?.username ?? null, role: actor?.role ?? null,
        device: actor?.device ?? null, ip: actor?.ip ?? null, user_agent: actor?.userAgent ?? null,
        patient_id: e.patientId ?? null, visit_id: e.visitId ?? null, action: e.action, path: e.path ?? null,
        old_value: auditText(e.oldValue), new_value: auditText(e.newValue), outcome: e.outcome, detail: auditText(e.detail),
        prev_hash: this.lastHash,
      };
      const values = hashedValues(base);
      const hash = hashValues(values);
      values.push(hash);
      this.insert.run(values);
      this.lastHash = hash;
    }
    this.written += pending.length;
    if (intents.length > 0) {
      statement(this.db, 'INSERT INTO audit_upto (id, seq) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq').run(intents.at(-1)!.seq);
    }
  }

  /** Walks the whole chain; returns the first row whose hash or link does not hold. */
  verify(): VerifyResult {
    const steps = this.verifySteps(10_000);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /**
   * The same walk, `rowsPerStep` rows at a time with other work between the steps: for a server that
   * keeps serving while an administrator checks millions of rows (about 7 µs each), not one frozen
   * for the whole walk. Rows committed meanwhile are checked too.
   */
  async verifyInSteps(rowsPerStep = 1000): Promise<VerifyResult> {
    const steps = this.verifySteps(rowsPerStep);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      await nextTurn();
    }
  }

  private *verifySteps(rowsPerStep: number): Generator<void, VerifyResult> {
    const page = this.db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?');
    let prev = GENESIS;
    let n = 0;
    let expectedId: number | null = null;
    let after = -1;
    for (;;) {
      const rows = page.all(after, rowsPerStep) as AuditRow[];
      for (const row of rows) {
        n++;
        if (expectedId !== null && row.id !== expectedId) {
          return { ok: false, rows: n, badRowId: row.id, problem: `row ${expectedId} is missing` };
        }
        expectedId = row.id + 1;
        if (row.prev_hash !== prev) return { ok: false, rows: n, badRowId: row.id, problem: 'link to the previous row is broken' };
        const { hash, ...rest } = row;
        if (rowHash(rest) !== hash) return { ok: false, rows: n, badRowId: row.id, problem: 'row content does not match its hash' };
        prev = hash;
      }
      if (rows.length < rowsPerStep) return { ok: true, rows: n };
      after = rows.at(-1)!.id;
      yield;
    }
  }
}
