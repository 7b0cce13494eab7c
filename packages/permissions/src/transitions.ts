// Visit workflow: which role may move a visit from one status to the next (the role whose step it ends).

import type { VisitStatus } from '@pamoja/schema';
import type { Role } from './roles.js';

export interface Transition {
  from: VisitStatus | null;
  to: VisitStatus;
  role: Role;
}

export const TRANSITIONS: readonly Transition[] = [
  { from: null, to: 'REGISTERED', role: 'RECEPTIONIST' },
  { from: 'REGISTERED', to: 'TRIAGE', role: 'RECEPTIONIST' },
  { from: 'TRIAGE', to: 'CONSULTATION', role: 'NURSE' },
  { from: 'CONSULTATION', to: 'LAB', role: 'CLINICAL_OFFICER' },
  { from: 'CONSULTATION', to: 'PHARMACY', role: 'CLINICAL_OFFICER' },
  { from: 'CONSULTATION', to: 'PAYMENT', role: 'CLINICAL_OFFICER' },
  // Results go back to the clinician who ordered them, who then prescribes.
  { from: 'LAB', to: 'CONSULTATION', role: 'LAB_TECHNICIAN' },
  { from: 'LAB', to: 'PHARMACY', role: 'LAB_TECHNICIAN' },
  { from: 'PHARMACY', to: 'PAYMENT', role: 'PHARMACIST' },
  { from: 'PAYMENT', to: 'COMPLETED', role: 'CASHIER' },
];

export function canTransition(role: Role, from: VisitStatus | null, to: VisitStatus): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.to === to && t.role === role);
}

export function nextSteps(role: Role, from: VisitStatus | null): VisitStatus[] {
  return TRANSITIONS.filter((t) => t.from === from && t.role === role).map((t) => t.to);
}

/** The role whose queue a visit in this status waits in. */
export const QUEUE_ROLE: Record<VisitStatus, Role | null> = {
  REGISTERED: 'RECEPTIONIST',
  TRIAGE: 'NURSE',
  CONSULTATION: 'CLINICAL_OFFICER',
  LAB: 'LAB_TECHNICIAN',
  PHARMACY: 'PHARMACIST',
  PAYMENT: 'CASHIER',
  COMPLETED: null,
};
