// Registering a patient: a new record with demographics, contact and an open visit waiting for triage.

import * as Y from 'yjs';
import {
  docNameFor, newId, openVisit, sectionOf, setContact, setDemographics, type Demographics,
} from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import type { Actor } from '../gate/actor.js';
import type { AuditEntry } from '../audit/audit-log.js';

export interface Registration {
  firstName: string;
  lastName: string;
  sex: string;
  dateOfBirth: string;
  phone?: string;
  otherNames?: string;
  nationalId?: string;
  paymentType?: string;
  department?: string;
}

export interface Registered {
  id: string;
  opNumber: string;
  visitId: string;
}

/** Opens a visit for an existing or new record and hands it to the triage queue. */
export function openVisitIn(doc: Y.Doc, opts: { paymentType?: string; department?: string; now?: string } = {}): string {
  const now = opts.now ?? new Date().toISOString();
  const visitId = openVisit(doc, { openedAt: now, department: opts.department });
  const reg = sectionOf(doc, visitId, 'registration')!;
  if (opts.paymentType) reg.set('paymentType', opts.paymentType);
  const wf = sectionOf(doc, visitId, 'workflow')!;
  wf.set('status', 'TRIAGE');
  wf.set('updatedAt', now);
  return visitId;
}

export function registerPatient(
  ctx: ServerContext, hub: Hub, actor: Actor, input: Registration,
  extra?: (doc: Y.Doc, visitId: string) => void,
): Registered {
  const id = newId();
  const opNumber = ctx.patients.nextOpNumber();
  const room = hub.open(docNameFor(id));
  let visitId = '';
  const demographics: Partial<Demographics> = {
    opNumber, firstName: input.firstName, lastName: input.lastName, sex: input.sex, dateOfBirth: input.dateOfBirth,
    otherNames: input.otherNames, nationalId: input.nationalId, registeredAt: new Date().toISOString(),
  };
  const audit: AuditEntry[] = [];
  room.writeAsServer(() => {
    setDemographics(room.doc, demographics);
    setContact(room.doc, { phone: input.phone });
    visitId = openVisitIn(room.doc, { paymentType: input.paymentType, department: input.department });
    extra?.(room.doc, visitId);
  }, actor, audit);
  ctx.audit.record(actor, [
    { action: 'REGISTER', outcome: 'applied', patientId: id, visitId, path: 'demographics', newValue: demographics },
  ]);
  return { id, opNumber, visitId };
}

export function openReturnVisit(ctx: ServerContext, hub: Hub, actor: Actor, patientId: string, paymentType?: string): string {
  const room = hub.open(docNameFor(patientId));
  let visitId = '';
  room.writeAsServer(() => {
    visitId = openVisitIn(room.doc, { paymentType });
  }, actor, [{ action: 'OPEN_VISIT', outcome: 'applied', patientId, path: 'visits', newValue: 'TRIAGE' }]);
  return visitId;
}
