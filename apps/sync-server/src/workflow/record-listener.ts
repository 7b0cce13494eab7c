// Follows committed changes to records: remembers who did what on a visit, tells people about
// urgent triage, lab orders and results, and hands the visit on when its status changed.

import type { RecordChanged } from '../context.js';
import type { Workflow } from './workflow.js';
import type { Contribution } from './recipients.js';
import { criticalValueMessage, labOrderedMessage, resultsReadyMessage, urgentTriageMessage } from './messages.js';

const URGENT_CATEGORIES = new Set(['EMERGENCY', 'URGENT']);
/** Sections whose changes can move a visit, change its priority or tell someone. */
const RELEVANT = new Set(['workflow', 'triage', 'labOrders', 'labResults']);
/** Sections whose writer is the visit's triage nurse, or its clinician. */
const TRIAGE_PARTS = new Set(['triage', 'vitals', 'assessment']);
const CONSULTATION_PARTS = new Set(['consultation', 'notes', 'diagnoses', 'prescriptions', 'labOrders']);

interface Touched {
  visitId: string;
  section: string;
  key: string | null;
  oldValue: unknown;
  newValue: unknown;
}

function touched(fields: RecordChanged['fields']): Touched[] {
  const out: Touched[] = [];
  for (const f of fields) {
    if (f.outcome === 'reverted-forbidden') continue;
    const [root, visitId, section, key] = f.path.split('/');
    if (root !== 'visits' || !visitId || !section) continue;
    out.push({ visitId, section, key: key ?? null, oldValue: f.oldValue, newValue: f.newValue });
  }
  return out;
}

/** Who-did-what rows a change adds: a nurse on triage, a clinician on the consultation or an order. */
function contributions(actor: RecordChanged['actor'], changes: Touched[]): Contribution[] {
  const out: Contribution[] = [];
  for (const c of changes) {
    if (actor.role === 'NURSE' && TRIAGE_PARTS.has(c.section)) out.push({ visitId: c.visitId, part: 'triage', userId: actor.userId });
    if (actor.role === 'CLINICAL_OFFICER' && CONSULTATION_PARTS.has(c.section)) {
      out.push({ visitId: c.visitId, part: 'consultation', userId: actor.userId });
    }
    if (actor.role === 'CLINICAL_OFFICER' && c.section === 'labOrders' && c.key && c.oldValue === null) {
      out.push({ visitId: c.visitId, part: 'lab-order', userId: actor.userId, ref: c.key });
    }
  }
  return out;
}

/**
 * Follows one committed change. Most changes (a vital sign, a keystroke in the notes) neither add a
 * contributor nor can move the visit: those return before any database work. The rest run as one
 * transaction.
 */
export function onRecordChanged(wf: Workflow, e: RecordChanged): void {
  const patientId = e.patientId;
  if (!patientId) return;
  const changes = touched(e.fields);
  if (changes.length === 0) return;
  const newContributors = contributions(e.actor, changes).filter((c) => !wf.recipients.knows(c));
  if (newContributors.length === 0 && !changes.some((c) => RELEVANT.has(c.section))) return;
  wf.atomically(() => follow(wf, patientId, e.actor, changes, newContributors));
}

function follow(wf: Workflow, patientId: string, actor: RecordChanged['actor'], changes: Touched[], newContributors: Contribution[]): void {
  const visits = new Set(changes.map((c) => c.visitId));
  // Who did what, first: later steps of this same change (a hand-off, a result) need it.
  for (const c of newContributors) wf.recipients.remember(c);

  for (const visitId of visits) {
    const mine = changes.filter((c) => c.visitId === visitId);
    // Typing in notes changes nothing here; skip reading the record for it.
    if (!mine.some((c) => RELEVANT.has(c.section))) continue;
    const facts = wf.facts(patientId, visitId);
    if (!facts.exists) continue;
    const base = { patientId, visitId };

    const category = mine.find((c) => c.section === 'triage' && c.key === 'category');
    if (category && facts.triageCategory && URGENT_CATEGORIES.has(facts.triageCategory) && category.oldValue !== facts.triageCategory) {
      const active = wf.assignments.active(visitId);
      const to = active?.queueRole === 'CLINICAL_OFFICER' && active.assigneeId ? [active.assigneeId] : wf.recipients.withRole('CLINICAL_OFFICER');
      wf.notifications.send(to, { ...urgentTriageMessage(facts, facts.triageCategory), ...base, key: `urgent-triage:${visitId}:${facts.triageCategory}` });
    }

    for (const c of mine.filter((x) => x.section === 'labOrders' && x.key && x.oldValue === null)) {
      const order = facts.labOrders.find((o) => o.id === c.key);
      if (order) wf.notifications.send(wf.recipients.withRole('LAB_TECHNICIAN'), { ...labOrderedMessage(facts, order), ...base, key: `lab-ordered:${order.id}` });
    }

    // The status decides the next assignment; the record (not the field row) is the truth.
    wf.syncVisit(patientId, visitId, actor);

    for (const c of mine.filter((x) => x.section === 'labResults' && x.key)) {
      const result = facts.labResults.find((r) => r.id === c.key);
      if (!result) continue;
      const test = facts.labOrders.find((o) => o.id === result.id)?.test ?? 'Lab test';
      const clinicians = wf.recipients.orderingClinicians(visitId, result.id);
      if (result.flag === 'CRITICAL') {
        // Critical values also reach the nurses who triaged: they are with the patient.
        const to = [...clinicians, ...wf.recipients.triageNurses(visitId)];
        wf.notifications.send(to, { ...criticalValueMessage(facts, test, result), ...base, key: `lab-critical:${result.id}` });
      }
      if (result.status === 'COMPLETED') {
        wf.notifications.send(clinicians, { ...resultsReadyMessage(facts, test, result), ...base, key: `lab-results:${result.id}` });
      }
    }
  }
}
