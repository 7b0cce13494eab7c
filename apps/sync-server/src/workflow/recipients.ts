// Who should know: the people who worked on a visit (who triaged, who ordered which test, who saw
// the patient) and the staff of a role. Remembered from accepted changes as they are committed.

import type { Role } from '@pamoja/permissions';
import type { DB } from '../storage/db.js';
import type { Users } from '../auth/users.js';
import type { Assignments } from './assignments.js';

/** The parts of a visit whose authors the workflow remembers. */
export type Part = 'triage' | 'consultation' | 'lab-order';

/** One person's part in a visit: `ref` names the lab order for 'lab-order'. */
export interface Contribution {
  visitId: string;
  part: Part;
  userId: string;
  ref?: string;
}

const contributionKey = (c: Contribution): string => `${c.visitId}\u0000${c.part}\u0000${c.ref ?? ''}\u0000${c.userId}`;

export class Recipients {
  constructor(private readonly db: DB, private readonly users: Users, private readonly assignments: Assignments) {}

  /** Contributors already stored: a nurse typing vitals must not cost a database write per keystroke. */
  private readonly known = new Set<string>();
  private insertContributor: import('better-sqlite3').Statement | null = null;

  /** Whether this contribution is already stored (as far as this process has seen). */
  knows(c: Contribution): boolean {
    return this.known.has(contributionKey(c));
  }

  remember(c: Contribution): void {
    const key = contributionKey(c);
    if (this.known.has(key)) return;
    if (this.known.size > 100_000) this.known.clear();
    this.known.add(key);
    this.insertContributor ??= this.db.prepare('INSERT OR IGNORE INTO visit_contributors (visit_id, part, ref, user_id, at) VALUES (?, ?, ?, ?, ?)');
    this.insertContributor.run(c.visitId, c.part, c.ref ?? '', c.userId, new Date().toISOString());
  }

  private contributors(visitId: string, part: Part, ref = ''): string[] {
    return (this.db.prepare('SELECT user_id FROM visit_contributors WHERE visit_id = ? AND part = ? AND ref = ? ORDER BY at')
      .all(visitId, part, ref) as { user_id: string }[]).map((r) => r.user_id);
  }

  /** Enabled staff with this role. */
  withRole(role: Role): string[] {
    return this.users.list().filter((u) => u.role === role && !u.disabled).map((u) => u.id);
  }

  private only(role: Role, ids: string[]): string[] {
    return [...new Set(ids)].filter((id) => {
      const u = this.users.byId(id);
      return u !== null && u.role === role && !u.disabled;
    });
  }

  /** The clinical officers who saw the patient: wrote the consultation, or held or handed on that step. */
  clinicians(visitId: string): string[] {
    return this.only('CLINICAL_OFFICER', [
      ...this.assignments.peopleAtStep(visitId, 'CONSULTATION'), ...this.contributors(visitId, 'consultation'),
    ]);
  }

  /** Who ordered a test; if the order came from elsewhere (seed, import), the visit's clinicians. */
  orderingClinicians(visitId: string, orderId: string): string[] {
    const who = this.only('CLINICAL_OFFICER', this.contributors(visitId, 'lab-order', orderId));
    if (who.length) return who;
    const seen = this.clinicians(visitId);
    return seen.length ? seen : this.withRole('CLINICAL_OFFICER');
  }

  /** The nurses who triaged the patient; all nurses when the record does not say. */
  triageNurses(visitId: string): string[] {
    const who = this.only('NURSE', [...this.contributors(visitId, 'triage'), ...this.assignments.peopleAtStep(visitId, 'TRIAGE')]);
    return who.length ? who : this.withRole('NURSE');
  }
}
