// Waiting and service times per step, computed from a visit's assignment rows.
// A step starts when the patient enters its queue (queuedAt). Waiting lasts until someone takes
// the patient; service lasts from the take until the hand-off. A step nobody took counts as waiting
// throughout, because the record cannot tell when the work began.

import type { VisitStatus } from '@pamoja/schema';
import type { Assignment } from './assignments.js';

export interface StepTiming {
  step: VisitStatus;
  queuedAt: string;
  takenAt: string | null;
  takenBy: string | null;
  endedAt: string | null;
  endedBy: string | null;
  waitMs: number;
  serviceMs: number | null;
  /** Still waiting or being served. */
  open: boolean;
}

const ms = (iso: string): number => Date.parse(iso);

export function stepTimings(rows: Assignment[], now = Date.now()): StepTiming[] {
  const steps: StepTiming[] = [];
  let current: StepTiming | null = null;
  for (const r of rows) {
    // A new step begins at each hand-off; takes and releases keep the step's queuedAt.
    if (!current || current.step !== r.step || current.queuedAt !== r.queuedAt) {
      current = { step: r.step, queuedAt: r.queuedAt, takenAt: null, takenBy: null, endedAt: null, endedBy: null, waitMs: 0, serviceMs: null, open: true };
      steps.push(current);
    }
    if (r.assigneeId && !current.takenAt) {
      current.takenAt = r.createdAt;
      current.takenBy = r.assigneeId;
    }
    if (r.status === 'COMPLETED') {
      current.endedAt = r.endedAt;
      current.endedBy = r.endedBy;
      current.open = false;
    }
  }
  for (const s of steps) {
    const end = s.endedAt ? ms(s.endedAt) : now;
    s.waitMs = Math.max(0, (s.takenAt ? ms(s.takenAt) : end) - ms(s.queuedAt));
    s.serviceMs = s.takenAt ? Math.max(0, end - ms(s.takenAt)) : null;
  }
  return steps;
}
