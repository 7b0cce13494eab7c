// A patient with chest pain walks the whole clinic journey through the real server, with six staff
// signed in at once: each role writes its own part of the record over a stock y-websocket client,
// hand-offs go through the transition endpoint and once as a direct status write over WebSocket.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced, testServer, until } from '../helpers/server.js';
import { assignments, isNote, openStream, take, transition, worklist, type SseClient } from '../helpers/workflow.js';

const ROLES = ['reception', 'nurse', 'clinician', 'lab', 'pharmacy', 'cashier'] as const;
type Who = (typeof ROLES)[number];
interface Staff { token: string; id: string; stream: SseClient }

let srv: RunningServer;
const staff = {} as Record<Who, Staff>;
const clients: { provider: { destroy: () => void } }[] = [];

beforeAll(async () => {
  srv = await testServer();
  for (const who of ROLES) {
    const token = await login(srv.url, who);
    const me = await api<{ user: { id: string } }>(srv.url, token, 'GET', '/api/auth/me');
    // Half the streams authenticate as a browser's EventSource must: with ?token=.
    staff[who] = { token, id: me.body.user.id, stream: await openStream(srv.url, token, { viaQuery: ROLES.indexOf(who) % 2 === 0 }) };
  }
});
afterAll(async () => {
  for (const c of clients) c.provider.destroy();
  for (const who of ROLES) staff[who]?.stream.close();
  await srv.close();
});

async function editor(who: Who, patientId: string): Promise<Y.Doc> {
  const c = stockClient(srv.url, `patient:${patientId}`, staff[who].token);
  clients.push(c);
  await synced(c.provider);
  return c.doc;
}

function statusRows(patientId: string): { username: string; old_value: string; new_value: string; outcome: string; detail: string | null }[] {
  srv.ctx.queue.flush(); // as the admin's audit search does: rows still kept in the edits' log rows too
  return srv.ctx.db.prepare(`SELECT username, old_value, new_value, outcome, detail FROM audit WHERE patient_id = ? AND path LIKE '%/workflow/status' ORDER BY id`).all(patientId) as never;
}

const kindsFor = (who: Who, patientId: string): string[] => staff[who].stream.notifications().filter((n) => n.patientId === patientId).map((n) => n.kind);

describe('workflow: the whole journey with a lab test', () => {
  it('moves a chest-pain patient from registration to payment, telling each person what they need', async () => {
    const { url } = srv;
    const reg = await api<{ id: string; visitId: string; opNumber: string }>(url, staff.reception.token, 'POST', '/api/patients', {
      firstName: 'Baraka', lastName: 'Omondi', sex: 'male', dateOfBirth: '1971-05-14', phone: '+254 700 100 200',
    });
    expect(reg.status).toBe(201);
    const { id: pid, visitId: vid } = reg.body;

    // Registered: waiting in the nurses' queue, and the nurse is told live.
    await staff.nurse.stream.waitFor(isNote('ASSIGNMENT', pid), 'nurse told of new patient');
    let a = await assignments(url, staff.nurse.token, pid, vid);
    expect(a.active).toMatchObject({ step: 'TRIAGE', queueRole: 'NURSE', priority: 'NORMAL', status: 'ACTIVE', assigneeId: null, createdBy: staff.reception.id });
    expect((await worklist(url, staff.nurse.token)).body.items.map((i) => i.patientId)).toContain(pid);
    expect((await worklist(url, staff.clinician.token)).body.items.map((i) => i.patientId)).not.toContain(pid);

    // Triage: the nurse takes the patient and writes triage over a stock client.
    expect((await take(url, staff.nurse.token, pid, vid)).status).toBe(200);
    const nurseDoc = await editor('nurse', pid);
    nurseDoc.transact(() => {
      sectionOf(nurseDoc, vid, 'triage')!.set('category', 'URGENT');
      sectionOf(nurseDoc, vid, 'triage')!.set('chiefComplaint', 'Crushing chest pain for two hours');
      sectionOf(nurseDoc, vid, 'vitals')!.set('heartRate', 112);
      sectionOf(nurseDoc, vid, 'vitals')!.set('systolic', 165);
    });
    const urgent = await staff.clinician.stream.waitFor(isNote('URGENT_TRIAGE', pid), 'clinician told of urgent triage');
    expect((urgent.data as { severity: string }).severity).toBe('urgent');
    await until(() => srv.ctx.db.prepare(`SELECT priority FROM assignments WHERE visit_id = ? AND status = 'ACTIVE'`).pluck().get(vid) === 'HIGH', 5000, 'priority raised by triage');

    // The nurse hands off by writing the status directly over WebSocket.
    sectionOf(nurseDoc, vid, 'workflow')!.set('status', 'CONSULTATION');
    await staff.clinician.stream.waitFor(isNote('ASSIGNMENT', pid), 'clinician told of the hand-off');
    a = await assignments(url, staff.clinician.token, pid, vid);
    expect(a.active).toMatchObject({ step: 'CONSULTATION', queueRole: 'CLINICAL_OFFICER', priority: 'HIGH' });
    expect(a.history[0]).toMatchObject({ step: 'TRIAGE', status: 'TRANSFERRED' });
    expect(a.history[1]).toMatchObject({ step: 'TRIAGE', status: 'COMPLETED', assigneeId: staff.nurse.id, endedBy: staff.nurse.id });

    // A nurse may not make the clinician's transition.
    const refused = await transition(url, staff.nurse.token, pid, vid, 'PHARMACY');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatch(/nurse cannot move a visit from CONSULTATION to PHARMACY/);

    // Consultation: diagnosis and an urgent troponin over WebSocket; lab techs hear of the order.
    expect((await take(url, staff.clinician.token, pid, vid)).status).toBe(200);
    const clinDoc = await editor('clinician', pid);
    const orderId = newId();
    clinDoc.transact(() => {
      sectionOf(clinDoc, vid, 'diagnoses')!.set(newId(), { code: 'I20.9', display: 'Angina pectoris, unspecified', certainty: 'PROVISIONAL' });
      sectionOf(clinDoc, vid, 'labOrders')!.set(orderId, { test: 'Troponin I', loinc: '10839-9', priority: 'URGENT' });
    });
    await staff.lab.stream.waitFor(isNote('LAB_ORDERED', pid), 'lab told of the order');
    const toLab = await transition(url, staff.clinician.token, pid, vid, 'LAB', 'Troponin now, then back to me');
    expect(toLab.status).toBe(200);
    expect(toLab.body.assignment).toMatchObject({ step: 'LAB', queueRole: 'LAB_TECHNICIAN', priority: 'URGENT', notes: 'Troponin now, then back to me' });
    await staff.lab.stream.waitFor(isNote('ASSIGNMENT', pid), 'lab told the patient is coming');
    await until(() => sectionOf(nurseDoc, vid, 'workflow')?.get('status') === 'LAB', 5000, 'status reached the nurse');

    // Lab: a critical result reaches the clinician and the nurse who triaged, at once.
    expect((await take(url, staff.lab.token, pid, vid)).status).toBe(200);
    const labDoc = await editor('lab', pid);
    sectionOf(labDoc, vid, 'labResults')!.set(orderId, { status: 'COMPLETED', value: '2.4', unit: 'ng/mL', referenceRange: '<0.04', flag: 'CRITICAL' });
    const crit = await staff.clinician.stream.waitFor(isNote('CRITICAL_LAB_VALUE', pid), 'clinician told of critical value');
    expect((crit.data as { critical: boolean }).critical).toBe(true);
    await staff.nurse.stream.waitFor(isNote('CRITICAL_LAB_VALUE', pid), 'nurse told of critical value');
    await staff.clinician.stream.waitFor(isNote('LAB_RESULTS_READY', pid), 'clinician told results are ready');

    // Results go back to the clinician who ordered them, not to the whole queue.
    expect((await transition(url, staff.lab.token, pid, vid, 'CONSULTATION')).status).toBe(200);
    a = await assignments(url, staff.clinician.token, pid, vid);
    expect(a.active).toMatchObject({ step: 'CONSULTATION', assigneeId: staff.clinician.id });

    // Prescribe, dispense, pay.
    clinDoc.transact(() => {
      sectionOf(clinDoc, vid, 'prescriptions')!.set(newId(), { drug: 'Aspirin 300 mg', dose: '300 mg', route: 'oral', frequency: 'once', quantity: 1 });
    });
    await until(() => sectionOf(nurseDoc, vid, 'prescriptions')?.size === 1, 5000, 'prescription synced');
    expect((await transition(url, staff.clinician.token, pid, vid, 'PHARMACY')).status).toBe(200);
    await staff.pharmacy.stream.waitFor(isNote('PRESCRIPTION_READY', pid), 'pharmacist told');
    const pharmDoc = await editor('pharmacy', pid);
    const rxId = [...sectionOf(pharmDoc, vid, 'prescriptions')!.keys()][0]!;
    sectionOf(pharmDoc, vid, 'dispensing')!.set(rxId, { status: 'DISPENSED', quantity: 1 });
    expect((await transition(url, staff.pharmacy.token, pid, vid, 'PAYMENT')).status).toBe(200);
    await staff.cashier.stream.waitFor(isNote('READY_FOR_PAYMENT', pid), 'cashier told');
    const cashDoc = await editor('cashier', pid);
    cashDoc.transact(() => {
      sectionOf(cashDoc, vid, 'billing')!.set('amountDue', 1500);
      sectionOf(cashDoc, vid, 'payments')!.set(newId(), { amount: 1500, method: 'CASH' });
    });
    expect((await transition(url, staff.cashier.token, pid, vid, 'COMPLETED')).status).toBe(200);
    await staff.clinician.stream.waitFor(isNote('VISIT_COMPLETED', pid), 'clinician told the visit is done');

    // Every editor converges on COMPLETED; nothing is active any more.
    for (const d of [nurseDoc, clinDoc, labDoc, pharmDoc, cashDoc]) {
      await until(() => sectionOf(d, vid, 'workflow')?.get('status') === 'COMPLETED', 5000, 'completed everywhere');
    }
    a = await assignments(url, staff.clinician.token, pid, vid);
    expect(a.active).toBeNull();
    expect(a.steps.map((s) => s.step)).toEqual(['TRIAGE', 'CONSULTATION', 'LAB', 'CONSULTATION', 'PHARMACY', 'PAYMENT']);
    expect(a.steps.every((s) => !s.open && s.waitMs >= 0)).toBe(true);
    expect(a.steps.filter((s) => s.takenBy !== null).map((s) => s.step)).toEqual(['TRIAGE', 'CONSULTATION', 'LAB', 'CONSULTATION']);

    // Only the people who should know were told.
    expect(kindsFor('reception', pid)).toEqual([]);
    expect(kindsFor('nurse', pid)).toEqual(['ASSIGNMENT', 'CRITICAL_LAB_VALUE']);
    expect(kindsFor('clinician', pid).sort()).toEqual(['ASSIGNMENT', 'ASSIGNMENT', 'CRITICAL_LAB_VALUE', 'LAB_RESULTS_READY', 'URGENT_TRIAGE', 'VISIT_COMPLETED']);
    expect(kindsFor('lab', pid)).toEqual(['LAB_ORDERED', 'ASSIGNMENT']);
    expect(kindsFor('pharmacy', pid)).toEqual(['PRESCRIPTION_READY']);
    expect(kindsFor('cashier', pid)).toEqual(['READY_FOR_PAYMENT']);

    // The audit has every hand-off, by whom, whichever way it came.
    expect(statusRows(pid).filter((r) => r.outcome === 'applied').map((r) => [r.username, r.new_value])).toEqual([
      ['reception', 'TRIAGE'], ['nurse', 'CONSULTATION'], ['clinician', 'LAB'], ['lab', 'CONSULTATION'], ['clinician', 'PHARMACY'], ['pharmacy', 'PAYMENT'], ['cashier', 'COMPLETED'],
    ]);
    expect(srv.ctx.db.prepare(`SELECT count(*) FROM audit WHERE patient_id = ? AND action = 'TAKE'`).pluck().get(pid)).toBe(3);
    expect(srv.ctx.audit.verify().ok).toBe(true);

    // The day board counts it as finished today.
    const board = await api<{ completedToday: { patientId: string }[]; steps: { step: string; total: number }[] }>(url, staff.cashier.token, 'GET', '/api/board');
    expect(board.body.completedToday.map((c) => c.patientId)).toContain(pid);
  });

  it('keeps notifications for later, with read and unread, and the critical one until acknowledged', async () => {
    const r = await api<{ items: { id: number; kind: string; read: boolean }[]; unread: number; criticalUnread: number; critical: { id: number }[] }>(srv.url, staff.nurse.token, 'GET', '/api/notifications');
    expect(r.status).toBe(200);
    expect(r.body.criticalUnread).toBe(1);
    const critical = r.body.critical[0]!;
    const marked = await api<{ read: boolean }>(srv.url, staff.nurse.token, 'POST', `/api/notifications/${critical.id}/read`);
    expect(marked.body.read).toBe(true);
    const after = await api<{ unread: number; criticalUnread: number }>(srv.url, staff.nurse.token, 'GET', '/api/notifications');
    expect(after.body).toMatchObject({ unread: r.body.unread - 1, criticalUnread: 0 });
    // Someone else's notification cannot be marked.
    expect((await api(srv.url, staff.cashier.token, 'POST', `/api/notifications/${critical.id}/read`)).status).toBe(404);
    // A stream opened later replays what it missed after the last id it saw.
    const late = await openStream(srv.url, staff.nurse.token, { lastEventId: 0 });
    expect(late.notifications().map((n) => n.id)).toContain(critical.id);
    late.close();
  });
});
