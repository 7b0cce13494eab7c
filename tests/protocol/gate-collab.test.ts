// Working side by side: field locks, conflicts between an offline and an online nurse, and the
// field-level, hash-chained audit of all of it.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { conflictsOf, docNameFor, sectionOf, type Conflict } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import type { AuditRow } from '../../apps/sync-server/src/audit/audit-log.js';
import { api, connectStock, login, registerTestPatient, stockClient, synced, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';

let srv: RunningServer;
let patientId: string;
let visitId: string;
const doc = (): string => docNameFor(patientId);

beforeAll(async () => {
  srv = await testServer();
  await srv.ctx.users.create({ username: 'nurse2', name: 'Mary Wambui', role: 'NURSE', password: 'demo' });
  await srv.ctx.users.create({ username: 'clinician2', name: 'Dr. Aisha Said', role: 'CLINICAL_OFFICER', password: 'demo' });
  ({ id: patientId, visitId } = await registerTestPatient(srv.url, {
    firstName: 'Lock', lastName: 'Conflict', sex: 'female', dateOfBirth: '1975-03-03',
  }));
});
afterAll(async () => {
  await srv.close();
});

const connect = (username: string) => connectStock(srv.url, doc(), username);

const auditRows = (where = '1=1', ...args: unknown[]): AuditRow[] => {
  srv.ctx.queue.flush();
  return srv.ctx.db.prepare(`SELECT * FROM audit WHERE ${where} ORDER BY id`).all(...args) as AuditRow[];
};

describe('field locks', () => {
  it('grants a lock to one person, shows it to everyone, reverts others\' writes, and frees it on disconnect', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const holder = new RawClient(srv.url, doc(), await login(srv.url, 'clinician'));
    const watcher = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await Promise.all([holder.opened, watcher.opened]);
    const path = `visits/${visitId}/diagnoses`;
    holder.sendExt({ type: 'lock', path });
    expect((await holder.waitFor((r) => r.ext?.type === 'lock-result')).ext).toMatchObject({ ok: true, path });
    const shown = await watcher.waitFor((r) => r.ext?.type === 'locks' && (r.ext.locks as unknown[]).length === 1);
    expect((shown.ext!.locks as { name: string; path: string }[])[0]).toMatchObject({ name: 'Dr. James Otieno', path });

    const other = new RawClient(srv.url, doc(), await login(srv.url, 'clinician2'));
    await other.opened;
    other.sendExt({ type: 'lock', path });
    expect((await other.waitFor((r) => r.ext?.type === 'lock-result')).ext).toMatchObject({ ok: false, reason: 'Dr. James Otieno is editing this field' });

    const second = await connect('clinician2');
    sectionOf(second.doc, visitId, 'diagnoses')!.set('dxlocked', { code: 'J18.9' });
    await until(() => !sectionOf(second.doc, visitId, 'diagnoses')!.has('dxlocked'), 5000, 'locked write reverted');
    await until(() => warn.mock.calls.some((c) => String(c[0]).includes('Dr. James Otieno is editing the diagnoses (locked)')), 5000, 'told why');

    const seenBefore = watcher.received.length;
    holder.close();
    await watcher.waitFor((r) => r.ext?.type === 'locks' && (r.ext.locks as unknown[]).length === 0, 5000, seenBefore);
    sectionOf(second.doc, visitId, 'diagnoses')!.set('dxfree', { code: 'J18.9' });
    await until(() => sectionOf(srv.hub.rooms.get(doc())!.doc, visitId, 'diagnoses')!.has('dxfree'), 5000, 'write after release lands');
    for (const c of [watcher, other]) c.close();
    second.provider.destroy();
    warn.mockRestore();
  });

  it('refuses locks on fields that are not lockable', async () => {
    const c = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await c.opened;
    c.sendExt({ type: 'lock', path: `visits/${visitId}/assessment` });
    expect((await c.waitFor((r) => r.ext?.type === 'lock-result')).ext).toMatchObject({ ok: false });
    c.close();
  });
});

describe('conflicts', () => {
  it('records both values when an offline nurse overwrites a triage category she never saw, until a nurse picks one', async () => {
    const a = await connect('nurse');
    const b = await connect('nurse2');
    b.provider.disconnect();
    sectionOf(a.doc, visitId, 'triage')!.set('category', 'URGENT');
    await until(() => sectionOf(srv.hub.rooms.get(doc())!.doc, visitId, 'triage')!.get('category') === 'URGENT', 5000, 'online value lands');
    sectionOf(b.doc, visitId, 'triage')!.set('category', 'EMERGENCY');
    b.provider.connect();
    await synced(b.provider);
    await until(() => conflictsOf(a.doc).size === 1, 5000, 'conflict recorded');
    const [conflict] = [...conflictsOf(a.doc).values()] as Conflict[];
    expect(conflict!.path).toBe(`visits/${visitId}/triage/category`);
    expect(conflict!.values.map((v) => [v.value, v.username, v.name])).toEqual([['URGENT', 'nurse', 'Sarah Achieng'], ['EMERGENCY', 'nurse2', 'Mary Wambui']]);
    expect(conflict!.resolved).toBeUndefined();
    expect(auditRows('outcome = ? AND path = ?', 'conflict', conflict!.path)).toHaveLength(1);

    const reception = await login(srv.url, 'reception');
    const denied = await api<{ error: string }>(srv.url, reception, 'POST', `/api/patients/${patientId}/conflicts/${conflict!.id}/resolve`, { value: 'URGENT' });
    expect(denied.status).toBe(403);
    const bad = await api<{ error: string }>(srv.url, await login(srv.url, 'nurse'), 'POST', `/api/patients/${patientId}/conflicts/${conflict!.id}/resolve`, { value: 'SOON' });
    expect(bad.status).toBe(400);
    const ok = await api<Conflict>(srv.url, await login(srv.url, 'nurse'), 'POST', `/api/patients/${patientId}/conflicts/${conflict!.id}/resolve`, { value: 'EMERGENCY' });
    expect(ok.status).toBe(200);
    await until(() => (conflictsOf(b.doc).get(conflict!.id) as Conflict | undefined)?.resolved?.value === 'EMERGENCY', 5000, 'resolution reaches clients');
    expect(sectionOf(a.doc, visitId, 'triage')!.get('category')).toBe('EMERGENCY');
    const again = await api(srv.url, await login(srv.url, 'nurse'), 'POST', `/api/patients/${patientId}/conflicts/${conflict!.id}/resolve`, { value: 'URGENT' });
    expect(again.status).toBe(409);
    a.provider.destroy();
    b.provider.destroy();
  });
});

describe('server-side writes reach the workflow', () => {
  it('picking an emergency in a triage conflict tells the clinicians at once', async () => {
    const { id, visitId: vid } = await registerTestPatient(srv.url, { firstName: 'Pick', lastName: 'Emergency', sex: 'male', dateOfBirth: '1960-02-02' });
    const name = docNameFor(id);
    // Yjs keeps the value of the higher client id: make the online, non-urgent value the one shown.
    const withId = (id: number): Y.Doc => {
      const d = new Y.Doc();
      d.clientID = id;
      return d;
    };
    const a = stockClient(srv.url, name, await login(srv.url, 'nurse'), {}, withId(0x7ffffff0));
    const b = stockClient(srv.url, name, await login(srv.url, 'nurse2'), {}, withId(7));
    await Promise.all([synced(a.provider), synced(b.provider)]);
    b.provider.disconnect();
    sectionOf(a.doc, vid, 'triage')!.set('category', 'NON_URGENT');
    await until(() => sectionOf(srv.hub.rooms.get(name)!.doc, vid, 'triage')!.get('category') === 'NON_URGENT', 5000, 'online value lands');
    sectionOf(b.doc, vid, 'triage')!.set('category', 'EMERGENCY');
    b.provider.connect();
    await until(() => conflictsOf(a.doc).size === 1, 5000, 'conflict recorded');
    expect(sectionOf(a.doc, vid, 'triage')!.get('category')).toBe('NON_URGENT');
    const clinician = await login(srv.url, 'clinician');
    const urgent = async (): Promise<number> => (await api<{ items: { kind: string; patientId: string }[] }>(srv.url, clinician, 'GET', '/api/notifications'))
      .body.items.filter((n) => n.kind === 'URGENT_TRIAGE' && n.patientId === id).length;
    expect(await urgent()).toBe(0);
    const [conflict] = [...conflictsOf(a.doc).values()] as Conflict[];
    const ok = await api(srv.url, await login(srv.url, 'nurse2'), 'POST', `/api/patients/${id}/conflicts/${conflict!.id}/resolve`, { value: 'EMERGENCY' });
    expect(ok.status).toBe(200);
    // Well inside the workflow's 5 s safety-net pass: the pick itself was followed.
    const start = Date.now();
    while ((await urgent()) === 0 && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 50));
    expect(await urgent()).toBe(1);
    a.provider.destroy();
    b.provider.destroy();
  });
});

describe('field audit', () => {
  it('writes one row per changed field with old and new values, refused attempts, views, logins and logouts', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const token = await login(srv.url, 'nurse');
    const nurse = stockClient(srv.url, doc(), token);
    await synced(nurse.provider);
    const vitals = sectionOf(nurse.doc, visitId, 'vitals')!;
    const base = `visits/${visitId}`;
    vitals.set('systolic', 120);
    // Changes to one field in one commit batch are one row; wait so these are two.
    await until(() => auditRows('path = ?', `${base}/vitals/systolic`).length === 1, 5000, 'first row');
    vitals.set('systolic', 135);
    sectionOf<Y.Text>(nurse.doc, visitId, 'assessment')!.insert(0, 'Looks well');
    sectionOf(nurse.doc, visitId, 'prescriptions')!.set('rxnurse', { drug: 'Morphine' });
    await until(() => auditRows('path = ? AND outcome = ?', `${base}/prescriptions/rxnurse`, 'reverted-forbidden').length === 1, 5000, 'refusal audited');
    const sys = auditRows('path = ?', `${base}/vitals/systolic`);
    expect(sys.map((r) => [r.old_value, r.new_value, r.username, r.role, r.outcome])).toEqual([
      [null, '120', 'nurse', 'NURSE', 'applied'],
      ['120', '135', 'nurse', 'NURSE', 'applied'],
    ]);
    expect(sys[0]!.patient_id).toBe(patientId);
    expect(sys[0]!.visit_id).toBe(visitId);
    expect(sys[0]!.ip).toMatch(/127\.0\.0\.1/);
    const text = auditRows('path = ?', `${base}/assessment`);
    expect(text.at(-1)!.new_value).toContain('inserted "Looks well"');
    const refused = auditRows('path = ?', `${base}/prescriptions/rxnurse`)[0]!;
    expect(refused.new_value).toContain('Morphine');
    expect(refused.detail).toMatch(/Nurses cannot change prescriptions/);
    expect(auditRows('action = ? AND username = ?', 'VIEW', 'nurse').length).toBeGreaterThan(0);
    const logins = auditRows('action = ? AND username = ? AND outcome = ?', 'LOGIN', 'nurse', 'ok');
    expect(logins.length).toBeGreaterThan(0);
    expect(logins[0]!.user_agent).toBeTruthy();
    await api(srv.url, await login(srv.url, 'wrong-user', 'x').catch(() => null), 'GET', '/healthz');
    expect(auditRows('action = ? AND outcome = ?', 'LOGIN', 'denied').length).toBeGreaterThan(0);
    await api(srv.url, token, 'POST', '/api/auth/logout');
    expect(auditRows('action = ? AND username = ?', 'LOGOUT', 'nurse')).toHaveLength(1);
    nurse.provider.destroy();
    warn.mockRestore();
  });

  it('folds a burst of changes to one field in one commit batch into one row, first old to last new', async () => {
    const nurse = stockClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await synced(nurse.provider);
    const before = auditRows('path = ?', `visits/${visitId}/vitals/heartRate`).length;
    const vitals = sectionOf(nurse.doc, visitId, 'vitals')!;
    // Three separate updates, sent back to back: they arrive in one turn of the server's event loop.
    vitals.set('heartRate', 80);
    vitals.set('heartRate', 81);
    vitals.set('heartRate', 82);
    await until(() => auditRows('path = ?', `visits/${visitId}/vitals/heartRate`).length > before, 5000, 'row written');
    const rows = auditRows('path = ?', `visits/${visitId}/vitals/heartRate`).slice(before);
    expect(rows.at(-1)!.new_value).toBe('82');
    expect(rows.length).toBeLessThan(3);
    nurse.provider.destroy();
  });

  it('verifies the hash chain and pinpoints a tampered row', () => {
    srv.ctx.queue.flush();
    expect(srv.ctx.audit.verify()).toMatchObject({ ok: true });
    const victim = auditRows('outcome = ?', 'applied')[2]!;
    srv.ctx.db.exec('DROP TRIGGER audit_no_update');
    srv.ctx.db.prepare('UPDATE audit SET new_value = ? WHERE id = ?').run('"999"', victim.id);
    expect(srv.ctx.audit.verify()).toMatchObject({ ok: false, badRowId: victim.id });
  });

  it('refuses to change or delete audit rows in the database itself', () => {
    const fresh = srv.ctx.db;
    expect(() => fresh.prepare('DELETE FROM audit WHERE id = 1').run()).toThrow(/append-only/);
  });
});
