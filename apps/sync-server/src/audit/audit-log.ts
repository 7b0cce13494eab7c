// The audit trail: append-only rows, each carrying the hash of the one before, so any edit or
// deletion of a past row breaks the chain at that row.

import { createHash } from 'node:crypto';
import type { DB } from '../storage/db.js';
import type { CommitQueue } from '../storage/commit-queue.js';
import type { Actor } from '../gate/actor.js';

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
const HASHED: (keyof Omit<AuditRow, 'hash'>)[] = [
  'id', 'at', 'user_id', 'username', 'role', 'device', 'ip', 'user_agent', 'patient_id', 'visit_id',
  'action', 'path', 'old_value', 'new_value', 'outcome', 'detail', 'prev_hash',
];

export function rowHash(row: Omit<AuditRow, 'hash'>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(HASHED.map((k) => row[k] ?? null)));
  return h.digest('hex');
}

const enc = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

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

  /** Queues rows; they commit with the updates they describe. */
  record(actor: Actor | null, entries: AuditEntry[]): void {
    if (entries.length === 0) return;
    const at = new Date().toISOString();
    const rows: AuditRow[] = entries.map((e) => {
      const base: Omit<AuditRow, 'hash'> = {
        id: ++this.lastId, at,
        user_id: actor?.userId ?? null, username: actor?.username ?? null, role: actor?.role ?? null,
        device: actor?.device ?? null, ip: actor?.ip ?? null, user_agent: actor?.userAgent ?? null,
        patient_id: e.patientId ?? null, visit_id: e.visitId ?? null, action: e.action, path: e.path ?? null,
        old_value: enc(e.oldValue), new_value: enc(e.newValue), outcome: e.outcome, detail: e.detail ?? null,
        prev_hash: this.lastHash,
      };
      const row = { ...base, hash: rowHash(base) };
      this.lastHash = row.hash;
      return row;
    });
    this.written += rows.length;
    this.queue.write(() => {
      for (const r of rows) this.insert.run(...HASHED.map((k) => r[k]), r.hash);
    });
  }

  /** Walks the whole chain; returns the first row whose hash or link does not hold. */
  verify(): { ok: true; rows: number } | { ok: false; rows: number; badRowId: number; problem: string } {
    let prev = GENESIS;
    let n = 0;
    let expectedId: number | null = null;
    for (const row of this.db.prepare('SELECT * FROM audit ORDER BY id').iterate() as IterableIterator<AuditRow>) {
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
    return { ok: true, rows: n };
  }
}
