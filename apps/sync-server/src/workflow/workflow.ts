// The clinic workflow: keeps each visit's assignment in step with the status in its record, and
// tells the right people. Every route into a hand-off (a WebSocket write, the transition endpoint,
// registration, a server restart) ends in `syncVisit`, which is idempotent.

import { QUEUE_ROLE, type Role } from '@pamoja/permissions';
import { docNameFor, type VisitStatus } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import type { Actor } from '../gate/actor.js';
import { Assignments, type Assignment } from './assignments.js';
import { LiveChannels } from './live.js';
import { Notifications } from './notifications.js';
import { Recipients } from './recipients.js';
import { priorityFor, readVisit, type VisitFacts } from './visit-facts.js';
import { stepMessage } from './messages.js';
import { onRecordChanged } from './record-listener.js';
import { statement } from '../storage/db.js';

export interface HandedOff {
  previous: Assignment | null;
  next: Assignment | null;
}

export class Workflow {
  readonly assignments: Assignments;
  readonly live = new LiveChannels();
  readonly notifications: Notifications;
  readonly recipients: Recipients;
  private readonly timer: NodeJS.Timeout;
  /** Following a change failed since the last pass that went through: the timer runs a pass (see the constructor). */
  private behind = false;
  /** One wrapper for every call: better-sqlite3 builds several functions per `transaction()`. */
  private readonly transaction: (fn: () => unknown) => unknown;

  constructor(readonly ctx: ServerContext, readonly hub: Hub) {
    this.transaction = ctx.db.transaction((fn: () => unknown) => fn());
    this.assignments = new Assignments(ctx.db);
    this.notifications = new Notifications(ctx.db, this.live);
    this.recipients = new Recipients(ctx.db, ctx.users, this.assignments);
    ctx.events.on('record-changed', (e) => {
      try {
        onRecordChanged(this, e);
      } catch (err) {
        this.behind = true;
        ctx.log.error({ err: err instanceof Error ? err.message : String(err), doc: e.docName }, 'workflow could not follow a change');
      }
    });
    ctx.sessions.onRevoke((tokenHash) => this.live.closeToken(tokenHash));
    this.reconcile();
    // Every change to a record, the server's own included, reaches onRecordChanged above. When
    // following one failed (its transaction rolled back: a busy or failing disk), the next tick puts
    // every open visit right, and the ticks after it until a pass goes through. While the workflow
    // keeps up, no pass runs here: a pass reads every open visit, pages of the database that editing
    // does not touch, and on a host that evicts little-used file pages that meant reading them back
    // from disk with every room waiting (once 106 ms under 500 edits/s). Worklists and boards still
    // run a pass before they are read.
    this.timer = setInterval(() => {
      if (!ctx.db.open) return this.close(); // the server has shut down
      if (!this.behind) return;
      this.behind = false;
      try {
        this.reconcile();
      } catch (err) {
        this.behind = true;
        ctx.log.error({ err: err instanceof Error ? err.message : String(err) }, 'workflow reconcile failed');
      }
    }, 5_000);
    this.timer.unref();
  }

  facts(patientId: string, visitId: string): VisitFacts {
    return readVisit(this.hub.open(docNameFor(patientId)).doc, visitId);
  }

  /**
   * Brings the visit's assignment in line with the status in its record: completes the active one
   * and opens the next, then tells the people concerned. Nothing happens when they already agree.
   */
  syncVisit(patientId: string, visitId: string, by: Actor | null, notes: string | null = null): HandedOff | null {
    return this.atomically(() => this.syncVisitNow(patientId, visitId, by, notes));
  }

  /**
   * Runs `fn` as one SQLite transaction (one fsync for the hand-off, who-did-what and notifications
   * together), and pushes the notifications live only once it has committed.
   */
  atomically<T>(fn: () => T): T {
    let result: T;
    try {
      result = this.transaction(fn) as T;
    } catch (e) {
      if (!this.ctx.db.inTransaction) this.notifications.discard();
      throw e;
    }
    if (!this.ctx.db.inTransaction) this.notifications.flush();
    return result;
  }

  private syncVisitNow(patientId: string, visitId: string, by: Actor | null, notes: string | null): HandedOff | null {
    const facts = this.facts(patientId, visitId);
    const status = facts.status;
    if (!facts.exists || !status) return null;
    const active = this.assignments.active(visitId);
    if (active?.step === status) {
      if (this.assignments.setPriority(visitId, priorityFor(facts, status))) this.queuesMoved([active.queueRole]);
      return null;
    }
    if (!active && status === 'COMPLETED') return null;
    const queueRole = QUEUE_ROLE[status];
    const next = status === 'COMPLETED' || !queueRole ? null : {
      patientId, visitId, step: status, queueRole, priority: priorityFor(facts, status),
      assigneeId: this.returnTo(visitId, active?.step ?? null, status),
    };
    const result = this.assignments.handoff(visitId, next, by?.userId ?? null, notes);
    this.announce(facts, patientId, visitId, status, result, by);
    this.queuesMoved([result.previous?.queueRole, result.next?.queueRole].filter((r): r is Role => !!r));
    return result;
  }

  /** Results go back to the clinician who sent the patient to the lab, not to the whole queue. */
  private returnTo(visitId: string, from: VisitStatus | null, to: VisitStatus): string | null {
    if (from !== 'LAB' || to !== 'CONSULTATION') return null;
    return this.recipients.clinicians(visitId)[0] ?? null;
  }

  private announce(facts: VisitFacts, patientId: string, visitId: string, status: VisitStatus, r: HandedOff, by: Actor | null): void {
    const notMe = (ids: string[]): string[] => ids.filter((id) => id !== by?.userId);
    if (status === 'COMPLETED') {
      const msg = stepMessage(facts, 'COMPLETED', r.next);
      this.notifications.send(notMe(this.recipients.clinicians(visitId)), { ...msg, patientId, visitId, key: `completed:${visitId}` });
      return;
    }
    if (!r.next) return;
    const to = r.next.assigneeId ? [r.next.assigneeId] : this.recipients.withRole(r.next.queueRole);
    const msg = stepMessage(facts, status, r.next);
    this.notifications.send(notMe(to), { ...msg, patientId, visitId, key: `assignment:${r.next.id}` });
  }

  /** Tells open worklists and boards that these queues changed, so they refresh at once. */
  queuesMoved(roles: Role[]): void {
    if (roles.length) this.live.toEveryone('queue', { roles: [...new Set(roles)], at: new Date().toISOString() });
  }

  /**
   * Visits whose active assignment disagrees with the status in the record: an open visit with no
   * assignment or one for another step, or an active assignment left on a visit whose status moved.
   * It looks only at open visits and active assignments (both indexed), so it stays cheap however
   * many patients the clinic has seen; it runs at start, on every worklist and board request, and
   * after following a change failed.
   */
  reconcile(): number {
    const rows = statement(this.ctx.db, `
      SELECT p.id, p.visit_id FROM patients p
        LEFT JOIN assignments a ON a.visit_id = p.visit_id AND a.status = 'ACTIVE'
        WHERE p.visit_status <> 'COMPLETED' AND p.visit_id IS NOT NULL AND a.step IS NOT p.visit_status
      UNION ALL
      SELECT p.id, p.visit_id FROM assignments a JOIN patients p ON p.visit_id = a.visit_id
        WHERE a.status = 'ACTIVE' AND p.visit_status IS NOT NULL AND a.step <> p.visit_status`).all() as { id: string; visit_id: string }[];
    let fixed = 0;
    // UNION ALL (a visit can be in both halves) lets SQLite scan the open-visit index in any order.
    for (const [visitId, patientId] of new Map(rows.map((r) => [r.visit_id, r.id]))) {
      try {
        if (this.syncVisit(patientId, visitId, null)) fixed++;
      } catch (err) {
        this.behind = true;
        this.ctx.log.warn({ err: err instanceof Error ? err.message : String(err), patient: patientId }, 'could not reconcile a visit');
      }
    }
    return fixed;
  }

  close(): void {
    clearInterval(this.timer);
    this.live.closeAll();
  }
}
