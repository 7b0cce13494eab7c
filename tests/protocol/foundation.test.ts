import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced, tempDir, testServer, tryUpgrade, until, wsUrl } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startChild } from '../helpers/child-server.js';

let srv: RunningServer;
beforeAll(async () => {
  srv = await testServer();
});
afterAll(async () => {
  await srv.close();
});

/** The HTTP status of a refused upgrade, or 'open' (the connection is then closed again). */
async function upgradeStatus(url: string): Promise<number | string> {
  const r = await tryUpgrade(url);
  if ('status' in r) return r.status;
  r.ws.close();
  return 'open';
}

describe('foundation', () => {
  it('lists the demo patients with their visit step', async () => {
    const token = await login(srv.url, 'reception');
    const r = await api<{ id: string; opNumber: string; firstName: string; lastName: string; visitStatus: string }[]>(srv.url, token, 'GET', '/api/patients');
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThanOrEqual(4);
    expect(r.body.map((p) => p.lastName)).toContain('Mutua');
    expect(r.body.every((p) => /^OP-\d{4}-\d{6}$/.test(p.opNumber))).toBe(true);
    expect(new Set(r.body.map((p) => p.visitStatus))).toEqual(new Set(['TRIAGE', 'CONSULTATION', 'LAB', 'PHARMACY']));
  });

  it('two stock y-websocket clients converge on one record through the server', async () => {
    const nurseToken = await login(srv.url, 'nurse');
    const clinToken = await login(srv.url, 'clinician');
    const patients = await api<{ id: string; visitId: string }[]>(srv.url, nurseToken, 'GET', '/api/patients?q=Hassan');
    const { id, visitId } = patients.body[0]!;
    const a = stockClient(srv.url, `patient:${id}`, nurseToken);
    const b = stockClient(srv.url, `patient:${id}`, clinToken);
    await Promise.all([synced(a.provider), synced(b.provider)]);
    expect(sectionOf(b.doc, visitId, 'workflow')?.get('status')).toBe('TRIAGE');
    sectionOf(a.doc, visitId, 'vitals')!.set('temperature', 37.8);
    sectionOf(b.doc, visitId, 'diagnoses')!.set('dx1', { code: 'B54', display: 'Unspecified malaria' });
    await until(() => sectionOf(b.doc, visitId, 'vitals')?.get('temperature') === 37.8, 5000, 'vitals at b');
    await until(() => sectionOf(a.doc, visitId, 'diagnoses')?.has('dx1') === true, 5000, 'diagnosis at a');
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc));
    a.provider.destroy();
    b.provider.destroy();
  });

  it('keeps the patient list current as records change over WebSocket', async () => {
    const rec = await login(srv.url, 'reception');
    const created = await api<{ id: string; visitId: string; opNumber: string }>(srv.url, rec, 'POST', '/api/patients', {
      firstName: 'Neema', lastName: 'Chebet', sex: 'female', dateOfBirth: '2001-07-07', phone: '+254 799 000 111',
    });
    expect(created.status).toBe(201);
    const { id, visitId } = created.body;
    const reception = stockClient(srv.url, `patient:${id}`, rec);
    const nurse = stockClient(srv.url, `patient:${id}`, await login(srv.url, 'nurse'));
    await Promise.all([synced(reception.provider), synced(nurse.provider)]);
    reception.doc.getMap('demographics').set('lastName', 'Chebet-Kirui');
    sectionOf(nurse.doc, visitId, 'triage')!.set('category', 'EMERGENCY');
    const find = async () => (await api<{ id: string; lastName: string; triageCategory: string | null }[]>(srv.url, rec, 'GET', '/api/patients?q=Kirui')).body.find((p) => p.id === id);
    let row = await find();
    for (let i = 0; i < 100 && (!row || row.triageCategory !== 'EMERGENCY'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = await find();
    }
    expect(row).toMatchObject({ lastName: 'Chebet-Kirui', triageCategory: 'EMERGENCY' });
    expect((await api<unknown[]>(srv.url, rec, 'GET', `/api/patients?q=${created.body.opNumber}`)).body).toHaveLength(1);
    expect((await api<unknown[]>(srv.url, rec, 'GET', '/api/patients?q=799000')).body).toHaveLength(1);
    reception.provider.destroy();
    nurse.provider.destroy();
  });

  it('registers patients only for reception, with clear errors for bad input', async () => {
    const rec = await login(srv.url, 'reception');
    const nurse = await login(srv.url, 'nurse');
    const body = { firstName: 'Baraka', lastName: 'Omondi', sex: 'male', dateOfBirth: '1995-12-01', phone: '0711000222' };
    expect((await api(srv.url, nurse, 'POST', '/api/patients', body)).status).toBe(403);
    expect((await api(srv.url, null, 'POST', '/api/patients', body)).status).toBe(401);
    const bad = await api<{ error: string }>(srv.url, rec, 'POST', '/api/patients', { ...body, dateOfBirth: '2999-01-01', sex: 'robot' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/sex/);
    expect(bad.body.error).toMatch(/dateOfBirth/);
    const first = await api<{ id: string; opNumber: string; visitId: string }>(srv.url, rec, 'POST', '/api/patients', body);
    expect(first.status).toBe(201);
    srv.ctx.queue.flush();
    const rows = srv.ctx.db.prepare('SELECT path, new_value, username FROM audit WHERE patient_id = ? AND action = ? ORDER BY id').all(first.body.id, 'UPDATE') as { path: string; new_value: string; username: string }[];
    expect(rows).toContainEqual({ path: 'demographics/firstName', new_value: 'Baraka', username: 'reception' });
    expect(rows).toContainEqual({ path: `visits/${first.body.visitId}/workflow/status`, new_value: 'TRIAGE', username: 'reception' });
    const twin = await api<{ existingId: string }>(srv.url, rec, 'POST', '/api/patients', body);
    expect(twin.status).toBe(409);
    expect(twin.body.existingId).toBe(first.body.id);
    const second = await api<{ opNumber: string }>(srv.url, rec, 'POST', '/api/patients', { ...body, firstName: 'Baraka Jr', dateOfBirth: '2020-01-01' });
    expect(second.body.opNumber).not.toBe(first.body.opNumber);
  });

  it('refuses WebSocket upgrades without a valid token', async () => {
    const token = await login(srv.url, 'nurse');
    const patients = await api<{ id: string }[]>(srv.url, token, 'GET', '/api/patients');
    const doc = `patient:${patients.body[0]!.id}`;
    expect(await upgradeStatus(`${wsUrl(srv.url)}/${doc}`)).toBe(401);
    expect(await upgradeStatus(`${wsUrl(srv.url)}/${doc}?token=not-a-token`)).toBe(401);
    await api(srv.url, token, 'POST', '/api/auth/logout');
    expect(await upgradeStatus(`${wsUrl(srv.url)}/${doc}?token=${token}`)).toBe(401);
    const fresh = await login(srv.url, 'nurse');
    expect(await upgradeStatus(`${wsUrl(srv.url)}/${doc}?token=${fresh}`)).toBe('open');
  });

  it('opens records of registered patients only: a made-up id is refused and nothing is stored for it', async () => {
    const token = await login(srv.url, 'reception');
    expect(await upgradeStatus(`${wsUrl(srv.url)}/patient:made-up-id?token=${token}`)).toBe(404);
    expect(srv.ctx.docs.exists('patient:made-up-id')).toBe(false);
    const { id } = (await api<{ id: string }>(srv.url, token, 'POST', '/api/patients', {
      firstName: 'Rehema', lastName: 'Atieno', sex: 'female', dateOfBirth: '2001-06-30',
    })).body;
    expect(await upgradeStatus(`${wsUrl(srv.url)}/patient:${id}?token=${token}`)).toBe('open');
  });

  it('closes live WebSockets of a session when it logs out', async () => {
    const token = await login(srv.url, 'pharmacy');
    const patients = await api<{ id: string }[]>(srv.url, token, 'GET', '/api/patients');
    const ws = new WebSocket(`${wsUrl(srv.url)}/patient:${patients.body[0]!.id}?token=${token}`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    expect((await api(srv.url, token, 'POST', '/api/auth/logout')).status).toBe(200);
    expect(await closed).toBe(4401);
    expect((await api(srv.url, token, 'GET', '/api/patients')).status).toBe(401);
  });
});

describe('saved acknowledgements', () => {
  it('answers every update message with saved counts once it is on disk, refused ones included', async () => {
    const token = await login(srv.url, 'nurse');
    const { id, visitId } = (await api<{ id: string; visitId: string }[]>(srv.url, token, 'GET', '/api/patients')).body[0]!;
    const raw = new RawClient(srv.url, `patient:${id}`, token);
    await raw.opened;
    const local = await raw.fetchDoc();
    const sends: Uint8Array[] = [];
    local.on('update', (u: Uint8Array) => sends.push(u));
    sectionOf(local, visitId, 'vitals')!.set('heartRate', 77);
    sectionOf(local, visitId, 'diagnoses')!.set('nope', { code: 'B54' }); // refused: nurses do not diagnose
    sectionOf(local, visitId, 'vitals')!.set('spo2', 96);
    for (const u of sends) raw.sendUpdate(u);
    raw.sendUpdate(new Uint8Array([0, 0])); // an update with nothing in it
    for (let i = 0; i < 200 && raw.savedCount() < 4; i++) await new Promise((r) => setTimeout(r, 10));
    expect(raw.savedCount()).toBe(4);
    srv.ctx.queue.flush();
    const stored = srv.ctx.docs.load(`patient:${id}`).doc;
    expect(sectionOf(stored, visitId, 'vitals')!.get('spo2')).toBe(96);
    raw.close();
  });
});

describe('sessions', () => {
  it('refuses an expired token on HTTP and WebSocket', async () => {
    const short = await testServer({ sessionTtlMs: 300 });
    const token = await login(short.url, 'nurse');
    expect((await api(short.url, token, 'GET', '/api/patients')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect((await api(short.url, token, 'GET', '/api/patients')).status).toBe(401);
    expect(await upgradeStatus(`${wsUrl(short.url)}/patient:abc?token=${token}`)).toBe(401);
    await short.close();
  });

  it('answers a wrong password with 401 and never stores passwords in the clear', async () => {
    const r = await api(srv.url, null, 'POST', '/api/auth/login', { username: 'nurse', password: 'wrong' });
    expect(r.status).toBe(401);
    const row = srv.ctx.db.prepare('SELECT password_hash FROM users WHERE username = ?').get('nurse') as { password_hash: string };
    expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(row.password_hash).not.toContain('demo');
  });
});

describe('start-up', () => {
  it('names a port already in use, closes its database, and starts cleanly on a free port after', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    const dataDir = tempDir();
    try {
      await expect(testServer({ port, dataDir })).rejects.toThrow(`port ${port} is already in use on 127.0.0.1 (is Pamoja already running?); set PORT to a free port`);
    } finally {
      taken.close();
    }
    // Nothing saved before the failed listen is lost: the demo clinic seeded by that start is on disk.
    const file = new Database(path.join(dataDir, 'pamoja.sqlite'), { readonly: true });
    expect(file.prepare('SELECT count(*) AS n FROM patients').get()).toEqual({ n: 4 });
    file.close();
    const again = await testServer({ dataDir });
    // As `npm start` runs it, the same refusal is one line on stderr and exit code 1.
    const blocked = startChild(tempDir(), { PORT: String(again.port) });
    await expect(blocked).rejects.toThrow(/server exited with 1:[\s\S]*Pamoja could not start: port \d+ is already in use on 127\.0\.0\.1/);
    const token = await login(again.url, 'reception');
    const patients = await api<unknown[]>(again.url, token, 'GET', '/api/patients');
    expect(patients.body).toHaveLength(4);
    await again.close();
  });
});
