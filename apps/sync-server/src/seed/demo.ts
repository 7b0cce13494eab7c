// The demo clinic: one user per role (password "demo") and a few patients at different steps.

import * as Y from 'yjs';
import type { Role } from '@pamoja/permissions';
import { newId, sectionOf } from '@pamoja/schema';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import { SYSTEM_ACTOR } from '../gate/actor.js';
import { registerPatient } from '../records/register.js';
import { hashPassword } from '../auth/passwords.js';

export const DEMO_USERS: { username: string; name: string; role: Role }[] = [
  { username: 'reception', name: 'Rose Wanjiru', role: 'RECEPTIONIST' },
  { username: 'nurse', name: 'Sarah Achieng', role: 'NURSE' },
  { username: 'clinician', name: 'Dr. James Otieno', role: 'CLINICAL_OFFICER' },
  { username: 'lab', name: 'Peter Kamau', role: 'LAB_TECHNICIAN' },
  { username: 'pharmacy', name: 'Grace Njeri', role: 'PHARMACIST' },
  { username: 'cashier', name: 'David Mwangi', role: 'CASHIER' },
  { username: 'admin', name: 'Clinic IT', role: 'ADMIN' },
];

const status = (doc: Y.Doc, visitId: string, s: string): void => {
  const wf = sectionOf(doc, visitId, 'workflow')!;
  wf.set('status', s);
  wf.set('updatedAt', new Date().toISOString());
};

export async function seedDemoClinic(ctx: ServerContext, hub: Hub): Promise<boolean> {
  if (ctx.users.count() > 0) return false;
  // The demo password is public, so one scrypt run serves every demo account: seeding stays quick
  // and does not leave seven 16 MB scrypt work areas in the process's memory.
  const passwordHash = await hashPassword('demo');
  for (const u of DEMO_USERS) await ctx.users.create({ ...u, password: 'demo', passwordHash });

  // Waiting for triage.
  registerPatient(ctx, hub, SYSTEM_ACTOR, { firstName: 'Amina', lastName: 'Hassan', sex: 'female', dateOfBirth: '1990-04-12', phone: '+254 712 345 678', paymentType: 'CASH' });
  // Triaged: chest pain, waiting for the clinical officer.
  registerPatient(ctx, hub, SYSTEM_ACTOR, { firstName: 'John', lastName: 'Mutua', sex: 'male', dateOfBirth: '1968-09-30', phone: '+254 722 111 222', paymentType: 'INSURANCE' }, (doc, v) => {
    const t = sectionOf(doc, v, 'triage')!;
    t.set('category', 'URGENT');
    t.set('chiefComplaint', 'Chest pain since this morning, radiating to left arm');
    const vit = sectionOf(doc, v, 'vitals')!;
    for (const [k, n] of Object.entries({ temperature: 36.9, heartRate: 104, respiratoryRate: 22, systolic: 158, diastolic: 96, spo2: 95 })) vit.set(k, n);
    sectionOf<Y.Text>(doc, v, 'assessment')!.insert(0, 'Anxious, sweating. History of hypertension.');
    status(doc, v, 'CONSULTATION');
  });
  // Seen by the clinician, malaria test ordered.
  registerPatient(ctx, hub, SYSTEM_ACTOR, { firstName: 'Fatuma', lastName: 'Odhiambo', sex: 'female', dateOfBirth: '2015-02-03', phone: '+254 733 444 555', paymentType: 'CASH' }, (doc, v) => {
    sectionOf(doc, v, 'triage')!.set('category', 'SEMI_URGENT');
    sectionOf(doc, v, 'triage')!.set('chiefComplaint', 'Fever and headache for 3 days');
    sectionOf(doc, v, 'vitals')!.set('temperature', 38.9);
    sectionOf(doc, v, 'diagnoses')!.set(newId(), { code: 'R50.9', display: 'Fever, unspecified', certainty: 'PROVISIONAL' });
    sectionOf(doc, v, 'labOrders')!.set(newId(), { test: 'Malaria rapid diagnostic test', loinc: '70569-9', priority: 'HIGH' });
    status(doc, v, 'LAB');
  });
  // Prescribed, waiting at the pharmacy.
  registerPatient(ctx, hub, SYSTEM_ACTOR, { firstName: 'Samuel', lastName: 'Kiprop', sex: 'male', dateOfBirth: '1985-11-21', phone: '+254 744 666 777', paymentType: 'MOBILE_MONEY' }, (doc, v) => {
    sectionOf(doc, v, 'triage')!.set('category', 'NON_URGENT');
    sectionOf(doc, v, 'triage')!.set('chiefComplaint', 'Sore throat');
    sectionOf(doc, v, 'diagnoses')!.set(newId(), { code: 'J02.9', display: 'Acute pharyngitis, unspecified', certainty: 'CONFIRMED' });
    sectionOf(doc, v, 'prescriptions')!.set(newId(), { drug: 'Amoxicillin 500 mg capsules', dose: '500 mg', route: 'oral', frequency: 'three times a day', durationDays: 5, quantity: 15 });
    status(doc, v, 'PHARMACY');
  });
  return true;
}
