// Assignments: who a visit is waiting for at each step. Every hand-off closes the active row and
// opens the next; a "take" moves the row from a role queue to one person. Rows are never deleted,
// so the history of a visit is the row list, and waits and service times fall out of it.

import type { Role } from '@pamoja/permissions';
import type { Priority, VisitStatus } from '@pamoja/schema';
import { statement, type DB } from '../storage/db.js';
import { priorityRankSql } from './priority.js';

export type AssignmentStatus = 'ACTIVE' | 'COMPLETED' | 'TRANSFERRED';

/** What the person at each step does for the patient. */
export const ASSIGNMENT_TYPES: Record<Exclude<VisitStatus, 'COMPLETED'>, string> = {
  REGISTERED: 'REGISTRATION',
  TRIAGE: 'TRIAGE',
  CONSULTATION: 'CONSULTATION',
  LAB: 'LAB_TESTS',
  PHARMACY: 'DISPENSING',
  PAYMENT: 'PAYMENT',
};

export interface Assignment {
  id: number;
  patientId: string;
  visitId: string;
  step: VisitStatus;
  type: string;
  queueRole: Role;
  assigneeId: string | null;
  assigneeName: string | null;
  priority: Priority;
  status: AssignmentStatus;
  /** When the patient entered this step (kept across takes, so waits start here). */
  queuedAt: string;
  createdAt: string;
  createdBy: string | null;
  endedAt: string | null;
  endedBy: string | null;
  previousId: number | null;
  notes: string | null;
}

interface Row {
  id: number; patient_id: string; visit_id: string; step: string; type: string; queue_role: string;
  assignee_id: string | null; assignee_name: string | null; priority: string; status: string; queued_at: string;
  created_at: string; created_by: string | null; ended_at: string | null; ended_by: string | null;
  previous_id: number | null; notes: string | null;
}

const toAssignment = (r: Row): Assignment => ({
  id: r.id, patientId: r.patient_id, visitId: r.visit_id, step: r.step as VisitStatus, type: r.type,
  queueRole: r.queue_role as Role, assigneeId: r.assignee_id, assigneeName: r.assignee_name ?? null,
  priority: r.priority as Priority, status: r.status as AssignmentStatus, queuedAt: r.queued_at,
  createdAt: r.created_at, createdBy: r.created_by, endedAt: r.ended_at, endedBy: r.ended_by,
  previousId: r.previous_id, notes: r.notes,
});

const SELECT = `SELECT a.*, u.name AS assignee_name FROM assignments a LEFT JOIN users u ON u.id = a.assignee_id`;

export interface NextStep {
  patientId: string;
  visitId: string;
  step: Exclude<VisitStatus, 'COMPLETED'>;
  queueRole: Role;
  assigneeId: string | null;
  priority: Priority;
}

export type TakeResult =
  | { ok: true; assignment: Assignment; already: boolean; takenOverFrom?: Assignment }
  | { ok: false; code: 'none' | 'wrong-role' | 'taken'; assignment: Assignment | null };

export class Assignments {
  constructor(private readonly db: DB) {}

  active(visitId: string): Assignment | null {
    const r = statement(this.db, `${SELECT} WHERE a.visit_id = ? AND a.status = 'ACTIVE'`).get(visitId) as Row | undefined;
    return r ? toAssignment(r) : null;
  }

  byId(id: number): Assignment | null {
    const r = this.db.prepare(`${SELECT} WHERE a.id = ?`).get(id) as Row | undefined;
    return r ? toAssignment(r) : null;
  }

  /** The whole trail of a visit, oldest first. */
  history(visitId: string): Assignment[] {
    return (this.db.prepare(`${SELECT} WHERE a.visit_id = ? ORDER BY a.id`).all(visitId) as Row[]).map(toAssignment);
  }

  /**
   * Closes the visit's active assignment as COMPLETED and opens `next` (none when the visit is done).
   * One SQLite transaction, so a visit never has two active rows or none in between.
   */
  handoff(visitId: string, next: NextStep | null, by: string | null, notes: string | null, at = new Date().toISOString()): { previous: Assignment | null; next: Assignment | null } {
    return this.db.transaction(() => {
      const previous = this.active(visitId);
      if (previous) {
        this.db.prepare(`UPDATE assignments SET status = 'COMPLETED', ended_at = ?, ended_by = ? WHERE id = ?`).run(at, by, previous.id);
      }
      if (!next) return { previous, next: null };
      const id = this.insert({ ...next, queuedAt: at, createdAt: at, createdBy: by, previousId: previous?.id ?? null, notes });
      return { previous, next: this.byId(id) };
    })();
  }

  /**
   * One person takes a patient from a role queue. The conditional UPDATE is the lock: of two
   * people taking at once, only one changes the row, the other is told who has the patient.
   */
  take(
    visitId: string, user: { id: string; role: Role }, at = new Date().toISOString(),
    /** Whether someone who has taken a patient is still at work; one signed out everywhere can be taken over from. */
    stillHere: (userId: string) => boolean = () => true,
  ): TakeResult {
    return this.db.transaction((): TakeResult => {
      const current = this.active(visitId);
      if (!current) return { ok: false, code: 'none', assignment: null };
      if (current.queueRole !== user.role) return { ok: false, code: 'wrong-role', assignment: current };
      if (current.assigneeId === user.id) return { ok: true, assignment: current, already: true };
      if (current.assigneeId !== null && stillHere(current.assigneeId)) return { ok: false, code: 'taken', assignment: current };
      const moved = this.db.prepare(
        `UPDATE assignments SET status = 'TRANSFERRED', ended_at = ?, ended_by = ? WHERE id = ? AND status = 'ACTIVE' AND assignee_id IS ?`,
      ).run(at, user.id, current.id, current.assigneeId);
      if (moved.changes !== 1) return { ok: false, code: 'taken', assignment: this.active(visitId) };
      const id = this.insert({
        ...current, assigneeId: user.id, createdAt: at, createdBy: user.id, previousId: current.id, notes: null,
      });
      return { ok: true, assignment: this.byId(id)!, already: false, takenOverFrom: current.assigneeId !== null ? current : undefined };
    })();
  }

  /** Puts a patient one has taken back into the role queue, keeping their place (queuedAt). */
  release(visitId: string, userId: string, at = new Date().toISOString()): Assignment | null {
    return this.db.transaction(() => {
      const current = this.active(visitId);
      if (!current || current.assigneeId !== userId) return null;
      this.db.prepare(`UPDATE assignments SET status = 'TRANSFERRED', ended_at = ?, ended_by = ? WHERE id = ?`).run(at, userId, current.id);
      const id = this.insert({ ...current, assigneeId: null, createdAt: at, createdBy: userId, previousId: current.id, notes: null });
      return this.byId(id);
    })();
  }

  /** Triage can change while a patient waits; the queue order follows. */
  setPriority(visitId: string, priority: Priority): boolean {
    return this.db.prepare(`UPDATE assignments SET priority = ? WHERE visit_id = ? AND status = 'ACTIVE' AND priority <> ?`)
      .run(priority, visitId, priority).changes > 0;
  }

  /** A role's queue: most urgent first, then longest waiting. */
  queue(role: Role): Assignment[] {
    return (this.db.prepare(`${SELECT} WHERE a.status = 'ACTIVE' AND a.queue_role = ? ORDER BY ${priorityRankSql('a.priority')} DESC, a.queued_at, a.id`)
      .all(role) as Row[]).map(toAssignment);
  }

  allActive(): Assignment[] {
    return (this.db.prepare(`${SELECT} WHERE a.status = 'ACTIVE' ORDER BY a.queued_at`).all() as Row[]).map(toAssignment);
  }

  /** Users who held a step of this visit (took it or handed it on), most recent first. */
  peopleAtStep(visitId: string, step: VisitStatus): string[] {
    const rows = this.db.prepare(
      `SELECT assignee_id AS u, max(id) AS m FROM assignments WHERE visit_id = ? AND step = ? AND assignee_id IS NOT NULL GROUP BY u
       UNION ALL SELECT ended_by AS u, max(id) AS m FROM assignments WHERE visit_id = ? AND step = ? AND status = 'COMPLETED' AND ended_by IS NOT NULL GROUP BY u
       ORDER BY m DESC`,
    ).all(visitId, step, visitId, step) as { u: string }[];
    return [...new Set(rows.map((r) => r.u))];
  }

  private insert(a: Omit<NextStep, 'step'> & { step: VisitStatus; queuedAt: string; createdAt: string; createdBy: string | null; previousId: number | null; notes: string | null }): number {
    const type = ASSIGNMENT_TYPES[a.step as Exclude<VisitStatus, 'COMPLETED'>];
    return Number(this.db.prepare(
      `INSERT INTO assignments (patient_id, visit_id, step, type, queue_role, assignee_id, priority, status, queued_at, created_at, created_by, previous_id, notes)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?)`,
    ).run(a.patientId, a.visitId, a.step, type, a.queueRole, a.assigneeId, a.priority, a.queuedAt, a.createdAt, a.createdBy, a.previousId, a.notes).lastInsertRowid);
  }
}
