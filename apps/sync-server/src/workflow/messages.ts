// What each notification says, in the words a clinic uses.

import type { VisitStatus } from '@pamoja/schema';
import type { Assignment } from './assignments.js';
import type { NewNotification } from './notifications.js';
import type { LabOrder, LabResult, VisitFacts } from './visit-facts.js';

type Message = Pick<NewNotification, 'kind' | 'severity' | 'title' | 'body'>;

const who = (f: VisitFacts): string => (f.opNumber ? `${f.patientName} (${f.opNumber})` : f.patientName);
const priorityNote = (a: Assignment | null): string => (a && (a.priority === 'URGENT' || a.priority === 'HIGH') ? ` Priority ${a.priority}.` : '');

/** The message for a patient entering a step. */
export function stepMessage(f: VisitFacts, step: VisitStatus, a: Assignment | null): Message {
  const severity = a?.priority === 'URGENT' ? 'urgent' : 'info';
  switch (step) {
    case 'REGISTERED':
      return { kind: 'ASSIGNMENT', severity, title: `Visit to finish registering: ${who(f)}`, body: 'The visit was opened but not yet sent to triage.' };
    case 'TRIAGE':
      return { kind: 'ASSIGNMENT', severity, title: `New patient for triage: ${who(f)}`, body: 'Waiting in the triage queue.' };
    case 'CONSULTATION':
      return a?.assigneeId
        ? { kind: 'ASSIGNMENT', severity, title: `${who(f)} is back from the lab`, body: `Lab work is done; the patient is waiting for you.${priorityNote(a)}` }
        : { kind: 'ASSIGNMENT', severity, title: `New patient for consultation: ${who(f)}`, body: `${f.chiefComplaint ? `Complaint: ${f.chiefComplaint}.` : 'Triaged and waiting.'}${priorityNote(a)}` };
    case 'LAB':
      return { kind: 'ASSIGNMENT', severity, title: `Patient sent to the lab: ${who(f)}`, body: `Tests: ${f.labOrders.map((o) => o.test).join(', ') || 'see the record'}.${priorityNote(a)}` };
    case 'PHARMACY':
      return { kind: 'PRESCRIPTION_READY', severity, title: `Prescription ready for dispensing: ${who(f)}`, body: `${f.prescriptionCount} item${f.prescriptionCount === 1 ? '' : 's'} to dispense.` };
    case 'PAYMENT':
      return { kind: 'READY_FOR_PAYMENT', severity, title: `Ready for payment: ${who(f)}`, body: 'The patient is waiting at the cashier.' };
    case 'COMPLETED':
      return { kind: 'VISIT_COMPLETED', severity: 'info', title: `Visit completed: ${who(f)}`, body: 'Paid and discharged.' };
  }
}

export function urgentTriageMessage(f: VisitFacts, category: string): Message {
  return {
    kind: 'URGENT_TRIAGE', severity: 'urgent',
    title: `${category === 'EMERGENCY' ? 'Emergency' : 'Urgent'} patient: ${who(f)}`,
    body: `Triaged ${category}.${f.chiefComplaint ? ` Complaint: ${f.chiefComplaint}.` : ''} See as soon as possible.`,
  };
}

export function labOrderedMessage(f: VisitFacts, o: LabOrder): Message {
  return {
    kind: 'LAB_ORDERED', severity: o.priority === 'URGENT' ? 'urgent' : 'info',
    title: `Lab test ordered for ${who(f)}`, body: `${o.test}${o.priority ? ` (priority ${o.priority})` : ''}.`,
  };
}

const resultText = (r: LabResult): string => [r.value, r.unit].filter(Boolean).join(' ') || 'see the record';

export function resultsReadyMessage(f: VisitFacts, test: string, r: LabResult): Message {
  return { kind: 'LAB_RESULTS_READY', severity: 'info', title: `Lab results ready: ${who(f)}`, body: `${test}: ${resultText(r)}${r.flag && r.flag !== 'NORMAL' ? ` (${r.flag})` : ''}.` };
}

export function criticalValueMessage(f: VisitFacts, test: string, r: LabResult): Message {
  return {
    kind: 'CRITICAL_LAB_VALUE', severity: 'critical',
    title: `CRITICAL lab value: ${who(f)}`, body: `${test}: ${resultText(r)}. Act now and acknowledge.`,
  };
}
