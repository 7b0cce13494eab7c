// Moving a visit on from outside the record editor (HTTP): the same rule the sync gate applies to
// a status written over WebSocket, plus "lab only when ordered", written into the record as the
// user who asked, audited, then handed off.

import { canTransition, ROLE_LABELS } from '@pamoja/permissions';
import { docNameFor, sectionOf, type VisitStatus } from '@pamoja/schema';
import type { Actor } from '../gate/actor.js';
import type { Workflow, HandedOff } from './workflow.js';

export type TransitionResult =
  | { ok: true; from: VisitStatus | null; to: VisitStatus; handedOff: HandedOff | null }
  | { ok: false; status: 403 | 404 | 409; error: string };

export function moveVisit(wf: Workflow, actor: Actor, patientId: string, visitId: string, to: VisitStatus, notes: string | null): TransitionResult {
  if (!wf.ctx.patients.byId(patientId)) return { ok: false, status: 404, error: 'No such patient' };
  const room = wf.hub.open(docNameFor(patientId));
  const facts = wf.facts(patientId, visitId);
  if (!facts.exists) return { ok: false, status: 404, error: 'This patient has no such visit' };
  const from = facts.status;
  if (from === to) return { ok: false, status: 409, error: `The visit is already at ${to}` };
  if (!canTransition(actor.role, from, to)) {
    return { ok: false, status: 403, error: `A ${ROLE_LABELS[actor.role].toLowerCase()} cannot move a visit from ${from ?? 'nothing'} to ${to}` };
  }
  if (to === 'LAB' && facts.labOrders.length === 0) {
    return { ok: false, status: 409, error: 'No lab tests are ordered for this visit; order a test before sending the patient to the lab' };
  }
  const at = new Date().toISOString();
  room.writeAsServer(() => {
    const workflow = sectionOf(room.doc, visitId, 'workflow')!;
    workflow.set('status', to);
    workflow.set('updatedAt', at);
  }, actor, [{
    action: 'UPDATE', outcome: 'applied', patientId, visitId, path: `visits/${visitId}/workflow/status`,
    oldValue: from, newValue: to, detail: notes ? `transition over HTTP; notes: ${notes}` : 'transition over HTTP',
  }]);
  const handedOff = wf.syncVisit(patientId, visitId, actor, notes);
  return { ok: true, from, to, handedOff };
}
