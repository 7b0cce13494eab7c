// Waiting and service times per step, from assignment rows as the server writes them.
import { describe, expect, it } from 'vitest';
import type { Assignment } from '../../apps/sync-server/src/workflow/assignments.js';
import { stepTimings } from '../../apps/sync-server/src/workflow/timings.js';
import { priorityFromTriage } from '../../apps/sync-server/src/workflow/priority.js';
import { priorityFor } from '../../apps/sync-server/src/workflow/visit-facts.js';

const t = (min: number): string => new Date(Date.UTC(2026, 0, 5, 8, min)).toISOString();
let id = 0;
function row(p: Partial<Assignment>): Assignment {
  return {
    id: ++id, patientId: 'p', visitId: 'v', step: 'TRIAGE', type: 'TRIAGE', queueRole: 'NURSE', assigneeId: null, assigneeName: null,
    priority: 'NORMAL', status: 'COMPLETED', queuedAt: t(0), createdAt: t(0), createdBy: null, endedAt: null, endedBy: null,
    previousId: null, notes: null, ...p,
  };
}

describe('step timings', () => {
  it('splits a taken step into waiting (queue to take) and service (take to hand-off)', () => {
    const rows = [
      row({ status: 'TRANSFERRED', queuedAt: t(0), createdAt: t(0), endedAt: t(12) }),
      row({ status: 'COMPLETED', queuedAt: t(0), createdAt: t(12), assigneeId: 'nurse', endedAt: t(20), endedBy: 'nurse' }),
      row({ step: 'CONSULTATION', queueRole: 'CLINICAL_OFFICER', status: 'ACTIVE', queuedAt: t(20), createdAt: t(20) }),
    ];
    const [triage, consult] = stepTimings(rows, Date.parse(t(50)));
    expect(triage).toMatchObject({ step: 'TRIAGE', waitMs: 12 * 60_000, serviceMs: 8 * 60_000, takenBy: 'nurse', open: false });
    expect(consult).toMatchObject({ step: 'CONSULTATION', waitMs: 30 * 60_000, serviceMs: null, open: true });
  });

  it('counts a step nobody took as waiting throughout, and a release keeps the place in the queue', () => {
    const rows = [
      row({ status: 'TRANSFERRED', queuedAt: t(0), createdAt: t(0), endedAt: t(5) }),
      row({ status: 'TRANSFERRED', queuedAt: t(0), createdAt: t(5), assigneeId: 'a', endedAt: t(7) }),
      row({ status: 'COMPLETED', queuedAt: t(0), createdAt: t(7), endedAt: t(9) }),
      row({ step: 'PAYMENT', status: 'COMPLETED', queuedAt: t(9), createdAt: t(9), endedAt: t(15) }),
    ];
    const [triage, payment] = stepTimings(rows);
    expect(triage).toMatchObject({ waitMs: 5 * 60_000, serviceMs: 4 * 60_000, takenBy: 'a' });
    expect(payment).toMatchObject({ waitMs: 6 * 60_000, serviceMs: null });
  });
});

describe('priority', () => {
  it('follows the triage category, and an urgent lab order raises it in the lab queue only', () => {
    expect(['EMERGENCY', 'URGENT', 'SEMI_URGENT', 'NON_URGENT', null].map(priorityFromTriage)).toEqual(['URGENT', 'HIGH', 'NORMAL', 'LOW', 'NORMAL']);
    const facts = {
      exists: true, status: 'LAB' as const, triageCategory: 'NON_URGENT', chiefComplaint: null, patientName: 'x', opNumber: '',
      labOrders: [{ id: 'o', test: 'FBC', priority: 'URGENT' as const }], labResults: [], prescriptionCount: 0,
    };
    expect(priorityFor(facts, 'LAB')).toBe('URGENT');
    expect(priorityFor(facts, 'PHARMACY')).toBe('LOW');
  });
});
