// The audit trail: append-only rows, each carrying the hash of the one before, so any edit or
// deletion of a past row breaks the chain at that row.

import { hash } from 'node:crypto';
import { jsonText } from '@pamoja/schema';
import type { DB } from '../storage/db.js';
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
  actor: Actor | null;
  at: string;
  entry: AuditEntry;
}

/**
 * Rows that may absorb later changes in the same batch: applied value changes, keyed by person,
 * device and field. Text and notes rows (keystroke summaries) and everything else stay apart.
 */
function mergeKey(a: Actor | null, e: AuditEntry): string | null {
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

  /** After a failed commit: the rows written in it are gone, so the chain continues from the database. */
  resync(): void {
    const last = this.db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
    this.lastId = last?.id ?? 0;
    this.lastHash = last?.hash ?? GENESIS;
  }

  /** Entries waiting for the next commit batch, hashed and written inside it. */
  private pending: PendingRow[] = [];
  private readonly mergeIndex = new Map<string, PendingRow>();

  /**
   * Queues rows; they commit in the same transaction as the updates they describe. Consecutive
   * changes by the same person to the same map field within one commit batch (a few milliseconds)
   * become one row, first old value to last new value: a nurse's burst of keystrokes is one change.
   */
  record(actor: Actor | null, entries: AuditEntry[]): void {
    if (entries.length === 0) return;
    const at = new Date().toISOString();
    if (this.pending.length === 0) this.queue.write(() => this.writePending());
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

  private writePending(): void {
    const pending = this.pending;
    this.pending = [];
    this.mergeIndex.clear();
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
