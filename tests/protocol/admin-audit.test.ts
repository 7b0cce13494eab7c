// Reading the audit of a busy record as an admin: search by every filter with paging, CSV export,
// chain verification, and the record's history (values as of a past time, each field's changes).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced, testServer, until } from '../helpers/server.js';

type Row = { id: number; at: string; username: string; action: string; path: string | null; outcome: string; old_value: string | null; new_value: string | null };
type Page = { rows: Row[]; nextCursor: number | null; total: number };
type History = {
  fields: { path: string; value: string | null; exact: boolean; setBy?: string }[];
  changes: { path: string; changes: { username: string; oldValue: string | null; newValue: string | null; outcome: string }[] }[];
};

let srv: RunningServer;
let admin: string;
let pid: string;
let vid: string;
const times: Record<string, string> = {};
const HEART_RATES = 60;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mark = async (name: string) => {
  await pause(5);
  times[name] = new Date().toISOString();
  await pause(5);
};

beforeAll(async () => {
  srv = await testServer();
  admin = await login(srv.url, 'admin');
  const reception = await login(srv.url, 'reception');
  await mark('beforeRegistration');
  const reg = await api<{ id: string; visitId: string }>(srv.url, reception, 'POST', '/api/patients', {
    firstName: 'Halima', lastName: 'Busy', sex: 'female', dateOfBirth: '1979-06-01', phone: '+254 700 000 001',
  });
  pid = reg.body.id;
  vid = reg.body.visitId;

  const nurse = stockClient(srv.url, `patient:${pid}`, await login(srv.url, 'nurse'));
  const clin = stockClient(srv.url, `patient:${pid}`, await login(srv.url, 'clinician'));
  await Promise.all([synced(nurse.provider), synced(clin.provider)]);
  const server = () => srv.hub.rooms.get(`patient:${pid}`)!.doc;
  const vitals = sectionOf(nurse.doc, vid, 'vitals')!;
  const stored = (key: string, v: unknown) => until(() => sectionOf(server(), vid, 'vitals')?.get(key) === v, 5000, `${key}=${String(v)}`);

  vitals.set('temperature', 37);
  await stored('temperature', 37);
  await mark('t1');
  vitals.set('temperature', 38.2);
  sectionOf(nurse.doc, vid, 'triage')!.set('chiefComplaint', 'Fever, "high" since Monday');
  await stored('temperature', 38.2);
  await mark('t2');
  vitals.set('temperature', 39.1);
  await stored('temperature', 39.1);
  sectionOf<Y.Text>(nurse.doc, vid, 'assessment')!.insert(0, 'Flushed, alert.');
  for (let i = 0; i < HEART_RATES; i++) {
    vitals.set('heartRate', 60 + i);
    await stored('heartRate', 60 + i);
  }
  // A nurse trying the clinician's part: refused and audited.
  sectionOf(nurse.doc, vid, 'diagnoses')!.set('dx-nurse', { code: 'B54', display: 'Malaria' });
  sectionOf(clin.doc, vid, 'consultation')!.set('plan', 'Malaria RDT, paracetamol');
  await until(() => sectionOf(server(), vid, 'consultation')?.get('plan') !== undefined, 5000, 'plan');
  await until(() => sectionOf(nurse.doc, vid, 'diagnoses')?.has('dx-nurse') === false, 5000, 'diagnosis reverted');
  nurse.provider.destroy();
  clin.provider.destroy();
  await mark('end');
});
afterAll(async () => {
  await srv.close();
});

describe('admin: audit of a busy record', () => {
  it('pages through every row of the record without gaps or repeats', async () => {
    const all = await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&limit=1000`);
    expect(all.body.total).toBeGreaterThan(HEART_RATES + 5);
    const seen: number[] = [];
    let cursor: number | null = null;
    do {
      const r: { body: Page } = await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&limit=7${cursor !== null ? `&cursor=${cursor}` : ''}`);
      expect(r.body.rows.length).toBeLessThanOrEqual(7);
      seen.push(...r.body.rows.map((x) => x.id));
      cursor = r.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.body.rows.map((x) => x.id));
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(new Set(seen).size).toBe(all.body.total);
  });

  it('filters by user, field, action, outcome and time range', async () => {
    const hr = await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&user=nurse&path=visits/*/vitals/heartRate&limit=1000&order=asc`);
    expect(hr.body.total).toBe(HEART_RATES);
    expect(hr.body.rows.map((r) => r.new_value)).toEqual(Array.from({ length: HEART_RATES }, (_, i) => String(60 + i)));
    expect(hr.body.rows[1]!.old_value).toBe('60');

    const refused = await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&outcome=reverted-forbidden`);
    expect(refused.body.rows).toHaveLength(1);
    expect(refused.body.rows[0]).toMatchObject({ username: 'nurse', path: `visits/${vid}/diagnoses/dx-nurse` });

    const views = await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&action=VIEW`);
    expect(views.body.rows.map((r) => r.username).sort()).toEqual(['clinician', 'nurse']);

    const window = await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&from=${times.t1}&to=${times.t2}&action=UPDATE`);
    expect(window.body.rows.map((r) => r.path).sort()).toEqual([`visits/${vid}/triage/chiefComplaint`, `visits/${vid}/vitals/temperature`]);
    expect(window.body.rows.every((r) => r.at >= times.t1! && r.at <= times.t2!)).toBe(true);

    const clinician = await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&user=clinician&action=UPDATE`);
    expect(clinician.body.rows).toHaveLength(1);
    expect(clinician.body.rows[0]!.new_value).toBe('Malaria RDT, paracetamol');
  });

  it('exports the same rows as CSV, quoting commas and quotes', async () => {
    const res = await fetch(`${srv.url}/admin/audit/export?patientId=${pid}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await res.text();
    const lines = text.split('\r\n').filter(Boolean);
    const total = (await api<Page>(srv.url, admin, 'GET', `/admin/audit?patientId=${pid}&limit=1`)).body.total;
    expect(lines[0]!.startsWith('id,at,user_id,username,role')).toBe(true);
    expect(lines).toHaveLength(total + 1);
    expect(text).toContain('"Fever, ""high"" since Monday"');
  });

  it('verifies the hash chain', async () => {
    const r = await api<{ ok: boolean; rows: number }>(srv.url, admin, 'GET', '/admin/audit/verify');
    expect(r.body.ok).toBe(true);
    expect(r.body.rows).toBeGreaterThan(HEART_RATES);
  });

  it('shows each field as of a past time and its change history', async () => {
    const at = async (t?: string) =>
      (await api<History>(srv.url, admin, 'GET', `/admin/patients/${pid}/history${t ? `?at=${t}` : ''}`)).body;
    const value = (h: History, path: string) => h.fields.find((f) => f.path === path);
    const temp = `visits/${vid}/vitals/temperature`;

    expect((await at(times.beforeRegistration)).fields).toEqual([]);
    const h1 = await at(times.t1);
    expect(value(h1, temp)).toMatchObject({ value: '37', exact: true, setBy: 'nurse' });
    expect(value(h1, `visits/${vid}/triage/chiefComplaint`)).toBeUndefined();
    expect(value(h1, 'demographics/firstName')).toMatchObject({ value: 'Halima', exact: true });
    expect(value(h1, `visits/${vid}/vitals/heartRate`)).toBeUndefined();
    expect(value(h1, `visits/${vid}/assessment`)).toMatchObject({ value: null, exact: false });

    const h2 = await at(times.t2);
    expect(value(h2, temp)?.value).toBe('38.2');
    expect(value(h2, `visits/${vid}/triage/chiefComplaint`)?.value).toBe('Fever, "high" since Monday');

    const now = await at();
    expect(value(now, temp)?.value).toBe('39.1');
    expect(value(now, `visits/${vid}/vitals/heartRate`)?.value).toBe(String(60 + HEART_RATES - 1));
    expect(value(now, `visits/${vid}/assessment`)).toMatchObject({ value: 'Flushed, alert.', exact: true });
    expect(value(now, `visits/${vid}/diagnoses/dx-nurse`)).toBeUndefined();

    const tempChanges = now.changes.find((c) => c.path === temp)!.changes;
    expect(tempChanges.map((c) => [c.username, c.oldValue, c.newValue])).toEqual([
      ['nurse', null, '37'], ['nurse', '37', '38.2'], ['nurse', '38.2', '39.1'],
    ]);
    const refused = now.changes.find((c) => c.path === `visits/${vid}/diagnoses/dx-nurse`)!.changes;
    expect(refused.map((c) => c.outcome)).toEqual(['reverted-forbidden']);
  });

  it('shows a record holding a value JSON cannot write (stored before the gate refused such values)', async () => {
    const reception = await login(srv.url, 'reception');
    const p = (await api<{ id: string; visitId: string }>(srv.url, reception, 'POST', '/api/patients', {
      firstName: 'Odd', lastName: 'Value', sex: 'male', dateOfBirth: '1970-01-01',
    })).body;
    // Written past the gate, as an older server let in: a BigInt in a sign and in an object under a
    // name that is no field.
    const room = srv.hub.open(`patient:${p.id}`);
    room.writeAsServer(() => {
      const vitals = sectionOf(room.doc, p.visitId, 'vitals')!;
      vitals.set('heartRate', 72n as unknown as number);
      vitals.set('constructor', { x: 1n } as unknown as number);
    });
    const r = await api<History>(srv.url, admin, 'GET', `/admin/patients/${p.id}/history`);
    expect(r.status).toBe(200);
    expect(r.body.fields.find((f) => f.path === `visits/${p.visitId}/vitals/heartRate`)?.value).toBe('"72n"');
  });
});
