// Workflow rules through the real server: a visit without lab tests, refused transitions over HTTP
// and WebSocket, one winner when two people take a patient, worklist order, board and stream auth.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced, testServer, until } from '../helpers/server.js';
import { assignments, openStream, take, transition, worklist } from '../helpers/workflow.js';

let srv: RunningServer;
const tok: Record<string, string> = {};
const providers: { destroy: () => void }[] = [];

beforeAll(async () => {
  srv = await testServer();
  await srv.ctx.users.create({ username: 'nurse2', name: 'Mercy Wambui', role: 'NURSE', password: 'demo' });
  for (const u of ['reception', 'nurse', 'nurse2', 'clinician', 'lab', 'pharmacy', 'cashier', 'admin']) tok[u] = await login(srv.url, u);
});
afterAll(async () => {
  for (const p of providers) p.destroy();
  await srv.close();
});

let n = 0;
async function register(firstName = `Test${n++}`): Promise<{ pid: string; vid: string }> {
  const r = await api<{ id: string; visitId: string }>(srv.url, tok.reception!, 'POST', '/api/patients', {
    firstName, lastName: 'Workflow', sex: 'female', dateOfBirth: `1980-01-${String(10 + (n % 18)).padStart(2, '0')}`, allowDuplicate: true,
  });
  expect(r.status).toBe(201);
  return { pid: r.body.id, vid: r.body.visitId };
}

async function editor(user: string, pid: string) {
  const c = stockClient(srv.url, `patient:${pid}`, tok[user]!);
  providers.push(c.provider);
  await synced(c.provider);
  return c.doc;
}

describe('workflow rules', () => {
  it('walks a visit without lab: lab is refused when nothing was ordered, and the lab hears nothing', async () => {
    const lab = await openStream(srv.url, tok.lab!);
    const { pid, vid } = await register('Nolab');
    expect((await transition(srv.url, tok.nurse!, pid, vid, 'CONSULTATION')).status).toBe(200);
    const noOrder = await transition(srv.url, tok.clinician!, pid, vid, 'LAB');
    expect(noOrder.status).toBe(409);
    expect(noOrder.body.error).toMatch(/No lab tests are ordered/);
    expect((await transition(srv.url, tok.clinician!, pid, vid, 'PHARMACY')).status).toBe(200);
    expect((await transition(srv.url, tok.pharmacy!, pid, vid, 'PAYMENT')).status).toBe(200);
    expect((await transition(srv.url, tok.cashier!, pid, vid, 'COMPLETED')).status).toBe(200);
    const a = await assignments(srv.url, tok.cashier!, pid, vid);
    expect(a.active).toBeNull();
    expect(a.history.map((h) => `${h.step}:${h.status}`)).toEqual(['TRIAGE:COMPLETED', 'CONSULTATION:COMPLETED', 'PHARMACY:COMPLETED', 'PAYMENT:COMPLETED']);
    // Completed visits cannot be moved again, and nobody can skip a step.
    expect((await transition(srv.url, tok.cashier!, pid, vid, 'COMPLETED')).status).toBe(409);
    expect(lab.notifications().filter((x) => x.patientId === pid)).toEqual([]);
    // Opening the visit and each move over HTTP: one audit row each for the status, with how it was made.
    srv.ctx.queue.flush();
    const rows = srv.ctx.db.prepare(`SELECT old_value, new_value, detail FROM audit WHERE patient_id = ? AND action = 'UPDATE' AND path = ? ORDER BY id`)
      .all(pid, `visits/${vid}/workflow/status`) as { old_value: string; new_value: string; detail: string | null }[];
    expect(rows.map((r) => [r.old_value, r.new_value, r.detail])).toEqual([
      [null, 'TRIAGE', null], ['TRIAGE', 'CONSULTATION', 'transition over HTTP'], ['CONSULTATION', 'PHARMACY', 'transition over HTTP'],
      ['PHARMACY', 'PAYMENT', 'transition over HTTP'], ['PAYMENT', 'COMPLETED', 'transition over HTTP'],
    ]);
    lab.close();
  });

  it('puts visits whose hand-off drifted from the record back on the right worklist, and leaves the rest alone', async () => {
    const lost = await register('Lost');
    const wrong = await register('Wrong');
    const steady = await register('Steady');
    const done = await register('Done');
    const leftover = await register('Leftover');
    for (const v of [done, leftover]) {
      for (const [to, by] of [['CONSULTATION', 'nurse'], ['PHARMACY', 'clinician'], ['PAYMENT', 'pharmacy'], ['COMPLETED', 'cashier']] as const) {
        expect((await transition(srv.url, tok[by]!, v.pid, v.vid, to)).status).toBe(200);
      }
    }
    // The workflow follows each move once it is on disk; let it finish before changing rows under it.
    await new Promise((r) => srv.ctx.queue.afterCommit(r));
    const db = srv.ctx.db;
    const activeRow = (vid: string) => db.prepare(`SELECT id, step, queue_role FROM assignments WHERE visit_id = ? AND status = 'ACTIVE'`).get(vid) as
      { id: number; step: string; queue_role: string } | undefined;
    const rowsOf = (vid: string) => db.prepare('SELECT count(*) FROM assignments WHERE visit_id = ?').pluck().get(vid);
    // Hand-offs that no longer match the record (a crash between writes, a bad restore).
    db.prepare(`UPDATE assignments SET status = 'CANCELLED' WHERE visit_id = ? AND status = 'ACTIVE'`).run(lost.vid);
    db.prepare(`UPDATE assignments SET step = 'PHARMACY', queue_role = 'PHARMACIST' WHERE visit_id = ? AND status = 'ACTIVE'`).run(wrong.vid);
    // A completed visit whose payment hand-off is open again.
    db.prepare(`UPDATE assignments SET status = 'ACTIVE', ended_at = NULL, ended_by = NULL WHERE id = (SELECT max(id) FROM assignments WHERE visit_id = ?)`).run(leftover.vid);
    expect(activeRow(leftover.vid)).toMatchObject({ step: 'PAYMENT' });
    const steadyBefore = activeRow(steady.vid)!;
    const doneRows = rowsOf(done.vid);
    // Any worklist request runs the safety net first.
    const list = await worklist(srv.url, tok.nurse!);
    expect(list.status).toBe(200);
    const triage = list.body.items.filter((i) => [lost.vid, wrong.vid, steady.vid].includes(i.visitId)).map((i) => `${i.visitId}:${i.step}`).sort();
    expect(triage).toEqual([`${lost.vid}:TRIAGE`, `${steady.vid}:TRIAGE`, `${wrong.vid}:TRIAGE`].sort());
    expect(activeRow(lost.vid)).toMatchObject({ step: 'TRIAGE', queue_role: 'NURSE' });
    expect(activeRow(wrong.vid)).toMatchObject({ step: 'TRIAGE', queue_role: 'NURSE' });
    expect((await worklist(srv.url, tok.pharmacy!)).body.items.some((i) => i.visitId === wrong.vid)).toBe(false);
    expect(activeRow(leftover.vid)).toBeUndefined();
    expect((await worklist(srv.url, tok.cashier!)).body.items.some((i) => i.visitId === leftover.vid)).toBe(false);
    // Visits that already agree are not touched.
    expect(activeRow(steady.vid)).toEqual(steadyBefore);
    expect(activeRow(done.vid)).toBeUndefined();
    expect(rowsOf(done.vid)).toBe(doneRows);
  });

  it('hands a visit on by itself once the database takes writes again after following a status change failed', async () => {
    const { pid, vid } = await register('Retried');
    const db = srv.ctx.db;
    const activeStep = () => db.prepare(`SELECT step FROM assignments WHERE visit_id = ? AND status = 'ACTIVE'`).pluck().get(vid);
    expect(activeStep()).toBe('TRIAGE');
    // The hand-off's writes fail (as on a disk in trouble); the record's own write is not touched.
    db.exec(`CREATE TRIGGER test_handoff_fails BEFORE INSERT ON assignments BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`);
    try {
      const nurseDoc = await editor('nurse', pid);
      sectionOf(nurseDoc, vid, 'workflow')!.set('status', 'CONSULTATION');
      await until(() => srv.ctx.patients.byId(pid)?.visitStatus === 'CONSULTATION', 5000, 'status saved');
      await new Promise((r) => srv.ctx.queue.afterCommit(r));
      expect(activeStep()).toBe('TRIAGE');
    } finally {
      db.exec('DROP TRIGGER test_handoff_fails');
    }
    // Nobody opens a worklist or the board: the retry puts the visit in the clinician's queue.
    await until(() => activeStep() === 'CONSULTATION', 8000, 'hand-off retried');
  }, 15_000);

  it('refuses another role\'s transition: 403 over HTTP, reverted over WebSocket, and no hand-off', async () => {
    const cashier = await openStream(srv.url, tok.cashier!);
    const { pid, vid } = await register('Refused');
    expect((await transition(srv.url, tok.nurse!, pid, vid, 'CONSULTATION')).status).toBe(200);
    expect((await transition(srv.url, tok.reception!, pid, vid, 'PAYMENT')).status).toBe(403);
    expect((await transition(srv.url, tok.clinician!, pid, vid, 'BOGUS')).status).toBe(400);

    const nurseDoc = await editor('nurse', pid);
    expect(sectionOf(nurseDoc, vid, 'workflow')!.get('status')).toBe('CONSULTATION');
    sectionOf(nurseDoc, vid, 'workflow')!.set('status', 'PAYMENT');
    // The gate undoes it; the nurse's own client converges back.
    await until(() => sectionOf(nurseDoc, vid, 'workflow')!.get('status') === 'CONSULTATION', 5000, 'status reverted at the nurse');
    await until(() => (srv.ctx.db.prepare(`SELECT count(*) FROM audit WHERE patient_id = ? AND path LIKE '%/workflow/status' AND outcome = 'reverted-forbidden'`).pluck().get(pid) as number) === 1, 5000, 'refusal audited');
    const a = await assignments(srv.url, tok.clinician!, pid, vid);
    expect(a.active).toMatchObject({ step: 'CONSULTATION', status: 'ACTIVE' });
    expect(a.history).toHaveLength(2);
    expect(cashier.notifications().filter((x) => x.patientId === pid)).toEqual([]);
    cashier.close();
  });

  it('lets only one of two nurses take the same patient; the other is told who has it', async () => {
    const { pid, vid } = await register('Contested');
    const [x, y] = await Promise.all([take(srv.url, tok.nurse!, pid, vid), take(srv.url, tok.nurse2!, pid, vid)]);
    const statuses = [x.status, y.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = x.status === 409 ? x : y;
    const winner = x.status === 200 ? 'Sarah Achieng' : 'Mercy Wambui';
    expect(loser.body.error).toBe(`${winner} has already taken this patient`);
    expect(srv.ctx.db.prepare(`SELECT count(*) FROM assignments WHERE visit_id = ? AND status = 'ACTIVE'`).pluck().get(vid)).toBe(1);
    // Other roles cannot take a nurse's patient; the holder can hand it back to the queue.
    expect((await take(srv.url, tok.cashier!, pid, vid)).status).toBe(403);
    const holder = x.status === 200 ? tok.nurse! : tok.nurse2!;
    expect((await api(srv.url, holder, 'POST', `/api/visits/${pid}/${vid}/release`)).status).toBe(200);
    const again = await take(srv.url, loser === x ? tok.nurse! : tok.nurse2!, pid, vid);
    expect(again.status).toBe(200);
    const list = (await worklist(srv.url, tok.nurse!)).body.items.find((i) => i.visitId === vid)!;
    expect(list.assignee?.name).toBe(winner === 'Sarah Achieng' ? 'Mercy Wambui' : 'Sarah Achieng');
  });

  it('a patient taken by someone who has since signed out everywhere can be taken over; while they are signed in, not', async () => {
    const { pid, vid } = await register('Abandoned');
    const away = await login(srv.url, 'nurse2');
    expect((await take(srv.url, away, pid, vid)).status).toBe(200);
    const held = await take(srv.url, tok.nurse!, pid, vid);
    expect(held.status).toBe(409);
    // Signed out on this device, but still signed in elsewhere (the test's own token): still hers.
    expect((await api(srv.url, away, 'POST', '/api/auth/logout')).status).toBe(200);
    expect((await take(srv.url, tok.nurse!, pid, vid)).status).toBe(409);
    const listed = async (): Promise<{ name: string | null; away: boolean } | null | undefined> =>
      (await worklist(srv.url, tok.nurse!)).body.items.find((i) => i.visitId === vid)?.assignee as { name: string | null; away: boolean } | null | undefined;
    expect(await listed()).toEqual({ id: expect.any(String), name: 'Mercy Wambui', away: false });
    srv.ctx.sessions.revokeAllFor(srv.ctx.users.byUsername('nurse2')!.id);
    expect(await listed()).toEqual({ id: expect.any(String), name: 'Mercy Wambui', away: true });
    const over = await api<{ assignment: { assigneeName: string }; takenOverFrom: { name: string } | null }>(srv.url, tok.nurse!, 'POST', `/api/visits/${pid}/${vid}/take`);
    expect(over.status).toBe(200);
    expect(over.body.takenOverFrom).toMatchObject({ name: 'Mercy Wambui' });
    expect(over.body.assignment.assigneeName).toBe('Sarah Achieng');
    expect(srv.ctx.db.prepare(`SELECT count(*) FROM assignments WHERE visit_id = ? AND status = 'ACTIVE'`).pluck().get(vid)).toBe(1);
    const audit = srv.ctx.db.prepare(`SELECT new_value FROM audit WHERE action = 'TAKE' AND visit_id = ? ORDER BY id DESC LIMIT 1`).pluck();
    srv.ctx.queue.flush();
    expect(JSON.parse(audit.get(vid) as string)).toMatchObject({ assignee: 'nurse', takenOverFrom: 'Mercy Wambui' });
    tok.nurse2 = await login(srv.url, 'nurse2');
  });

  it('orders a worklist by priority, then by waiting time, and follows triage as it changes', async () => {
    const first = await register('Early');
    const second = await register('Middle');
    const third = await register('Emergency');
    const doc = await editor('nurse', third.pid);
    sectionOf(doc, third.vid, 'triage')!.set('category', 'EMERGENCY');
    await until(() => srv.ctx.db.prepare(`SELECT priority FROM assignments WHERE visit_id = ? AND status = 'ACTIVE'`).pluck().get(third.vid) === 'URGENT', 5000, 'priority follows triage');
    const items = (await worklist(srv.url, tok.nurse!)).body.items.map((i) => i.visitId);
    const order = [third.vid, first.vid, second.vid].map((v) => items.indexOf(v));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((p, q) => p - q));
    // The admin can look at any queue; others only at their own.
    expect((await worklist(srv.url, tok.admin!, 'NURSE')).body.items.map((i) => i.visitId)).toEqual(items);
    expect((await worklist(srv.url, tok.nurse!, 'CASHIER')).status).toBe(403);
    // The board counts the triage queue and names the longest wait.
    const board = await api<{ steps: { step: string; total: number }[]; longestWaits: { visitId: string }[] }>(srv.url, tok.admin!, 'GET', '/api/board');
    expect(board.body.steps.find((s) => s.step === 'TRIAGE')!.total).toBe(items.length);
    expect(board.body.longestWaits.length).toBeGreaterThan(0);
    // Clinicians hear of an emergency at once, even before the patient reaches their queue.
    const clin = await api<{ items: { kind: string; patientId: string; severity: string }[] }>(srv.url, tok.clinician!, 'GET', '/api/notifications');
    expect(clin.body.items.find((x) => x.kind === 'URGENT_TRIAGE' && x.patientId === third.pid)?.severity).toBe('urgent');
  });

  it('refuses the stream without a token and closes it on sign-out', async () => {
    expect((await fetch(`${srv.url}/api/notifications/stream`)).status).toBe(401);
    expect((await fetch(`${srv.url}/api/notifications/stream?token=nope`)).status).toBe(401);
    const token = await login(srv.url, 'pharmacy');
    const s = await openStream(srv.url, token);
    expect(s.closed).toBe(false);
    await api(srv.url, token, 'POST', '/api/auth/logout');
    await until(() => s.closed, 5000, 'stream closed by the server on sign-out');
    const res = await fetch(`${srv.url}/api/notifications`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    s.close();
  });
});
