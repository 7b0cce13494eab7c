// Every role against every unit it must not write: live, mixed with allowed edits, and hidden in a
// large offline bundle. Refused changes never reach anyone else, never persist, and the sender converges.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { ROLES, WRITE_MATRIX, type Role } from '@pamoja/permissions';
import { UNIT_KINDS, docNameFor, sectionOf, type UnitKind } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { connectStock, login, registerTestPatient, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { recordJson } from '../helpers/record.js';
import { WRITES, marker } from '../helpers/writes.js';

const USER: Record<Role, string> = {
  RECEPTIONIST: 'reception', NURSE: 'nurse', CLINICAL_OFFICER: 'clinician', LAB_TECHNICIAN: 'lab',
  PHARMACIST: 'pharmacy', CASHIER: 'cashier', ADMIN: 'admin',
};
/** Units a role may write in the matrix but whose sample write the shape rules still refuse. */
const ALWAYS_REFUSED: UnitKind[] = ['visits/*', 'visits/*/workflow'];

let srv: RunningServer;
let patientId: string;
let visitId: string;

beforeAll(async () => {
  srv = await testServer();
  ({ id: patientId, visitId } = await registerTestPatient(srv.url, {
    firstName: 'Gate', lastName: 'Tester', sex: 'female', dateOfBirth: '1999-01-01', phone: '0700000000',
  }));
});
afterAll(async () => {
  await srv.close();
});

const serverJson = (): Record<string, unknown> => recordJson(srv.hub.rooms.get(docNameFor(patientId))!.doc);

function persistedBytes(): Buffer {
  const rows = srv.ctx.db.prepare('SELECT data FROM doc_updates WHERE doc = ? UNION ALL SELECT data FROM doc_snapshots WHERE doc = ?')
    .all(docNameFor(patientId), docNameFor(patientId)) as { data: Buffer }[];
  return Buffer.concat(rows.map((r) => r.data));
}

const connect = (username: string) => connectStock(srv.url, docNameFor(patientId), username);

/** A nurse on a bare connection with a local copy of the record; every local change is collected, not sent. */
async function nurseWithLocalCopy(): Promise<{ docName: string; raw: RawClient; local: Y.Doc; updates: Uint8Array[] }> {
  const docName = docNameFor(patientId);
  const raw = new RawClient(srv.url, docName, await login(srv.url, 'nurse'));
  await raw.opened;
  const local = await raw.fetchDoc();
  const updates: Uint8Array[] = [];
  local.on('update', (u: Uint8Array) => updates.push(u));
  return { docName, raw, local, updates };
}

describe('role checks on every update', () => {
  for (const role of ROLES) {
    const forbidden = UNIT_KINDS.filter((k) => !WRITE_MATRIX[k].includes(role) || ALWAYS_REFUSED.includes(k));
    it(`${role} cannot write ${forbidden.length} units it does not own; nobody sees the attempt and the sender converges`, async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const attacker = await connect(USER[role]);
      const observer = await connect(role === 'ADMIN' ? 'reception' : 'admin');
      const seenByObserver: string[] = [];
      observer.doc.on('afterTransaction', () => seenByObserver.push(JSON.stringify(recordJson(observer.doc))));
      for (const kind of forbidden) {
        const before = serverJson();
        const m = marker();
        WRITES[kind](attacker.doc, visitId, m);
        expect(JSON.stringify(recordJson(attacker.doc))).not.toEqual(JSON.stringify(before));
        await until(() => JSON.stringify(recordJson(attacker.doc)) === JSON.stringify(before), 5000, `${role} ${kind} reverted`);
        expect(serverJson(), kind).toEqual(before);
        srv.ctx.queue.flush();
        expect(persistedBytes().includes(m), `${kind} marker on disk`).toBe(false);
      }
      await until(() => warn.mock.calls.length >= forbidden.length, 5000, 'refusals told');
      expect(seenByObserver.some((s) => s.includes('MK'))).toBe(false);
      expect(JSON.stringify(recordJson(observer.doc))).toEqual(JSON.stringify(serverJson()));
      const reasons = warn.mock.calls.map((c) => String(c[0])).join('\n');
      expect(reasons).toMatch(/Permission denied/);
      if (role !== 'ADMIN') expect(reasons).toMatch(/cannot change|never deleted|created with the visit|cannot move a visit/);
      attacker.provider.destroy();
      observer.provider.destroy();
      warn.mockRestore();
    });
  }

  it('keeps the allowed part of an update that also holds a forbidden part', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const nurse = await connect('nurse');
    const observer = await connect('admin');
    const m = marker();
    const dx = sectionOf(nurse.doc, visitId, 'diagnoses')!;
    nurse.doc.transact(() => {
      sectionOf(nurse.doc, visitId, 'vitals')!.set('heartRate', 88);
      dx.set(m, { code: 'B54', display: m });
      sectionOf(nurse.doc, visitId, 'triage')!.set('category', 'URGENT');
    });
    await until(() => sectionOf(observer.doc, visitId, 'triage')?.get('category') === 'URGENT', 5000, 'allowed part arrives');
    expect(sectionOf(observer.doc, visitId, 'vitals')!.get('heartRate')).toBe(88);
    await until(() => !sectionOf(nurse.doc, visitId, 'diagnoses')!.has(m), 5000, 'forbidden part reverted at sender');
    expect(sectionOf(observer.doc, visitId, 'diagnoses')!.has(m)).toBe(false);
    nurse.provider.destroy();
    observer.provider.destroy();
    warn.mockRestore();
  });

  it('checks updates that arrive together as one: allowed kept, forbidden refused, every message acknowledged', async () => {
    const { docName, raw, local, updates } = await nurseWithLocalCopy();
    const m = marker();
    for (let i = 0; i < 40; i++) {
      if (i === 13) sectionOf(local, visitId, 'diagnoses')!.set(m, { code: 'B54', display: m });
      else if (i === 27) sectionOf(local, visitId, 'payments')!.set(m, { amount: 1 });
      else sectionOf(local, visitId, 'vitals')!.set(i % 2 ? 'heartRate' : 'respiratoryRate', 20 + i);
    }
    expect(updates).toHaveLength(40);
    const rowsBefore = srv.ctx.docs.sizeOf(docName).logRows;
    const acceptedBefore = srv.ctx.metrics.updatesAccepted;
    raw.sendTogether(updates);
    await until(() => raw.savedCount() === 40, 5000, 'all 40 messages acknowledged');
    const vitals = sectionOf(srv.hub.rooms.get(docName)!.doc, visitId, 'vitals')!;
    expect([vitals.get('heartRate'), vitals.get('respiratoryRate')]).toEqual([59, 58]);
    expect(JSON.stringify(serverJson())).not.toContain(m);
    const refused = raw.exts('refused').flatMap((e) => e.refusals as { path: string }[]).map((r) => r.path);
    expect(refused).toEqual(expect.arrayContaining([`visits/${visitId}/diagnoses/${m}`, `visits/${visitId}/payments/${m}`]));
    // Counted per message in the metrics, stored as one checked transaction rather than 40 rows.
    expect(srv.ctx.metrics.updatesAccepted - acceptedBefore).toBe(40);
    srv.ctx.queue.flush();
    expect(srv.ctx.docs.sizeOf(docName).logRows - rowsBefore).toBeLessThan(5);
    // The sender converges on what the server kept.
    const after = await raw.fetchDoc();
    for (const r of raw.received.filter((x) => x.type === 0 && x.step === 2)) Y.applyUpdate(local, r.payload!);
    expect(recordJson(local)).toEqual(recordJson(after));
    raw.close();
  });

  it('takes updates sent together again (a reconnect resending) without leaving anything behind', async () => {
    const { docName, raw, local, updates } = await nurseWithLocalCopy();
    sectionOf(local, visitId, 'vitals')!.set('temperature', 37.1);
    sectionOf(local, visitId, 'vitals')!.set('temperature', 37.2);
    const serverDoc = srv.hub.rooms.get(docName)!.doc as unknown as { _observers: Map<string, Set<unknown>> };
    const listeners = (): number => serverDoc._observers.get('update')?.size ?? 0;
    raw.sendTogether(updates);
    await until(() => raw.savedCount() === 2, 5000, 'first sending saved');
    const before = listeners();
    for (let i = 0; i < 50; i++) raw.sendTogether(updates);
    await until(() => raw.savedCount() === 102, 5000, 'every resent message acknowledged');
    expect(listeners()).toBe(before);
    expect(sectionOf(srv.hub.rooms.get(docName)!.doc, visitId, 'vitals')!.get('temperature')).toBe(37.2);
    raw.close();
  });

  it('checks a whole offline shift: 2,000 allowed edits kept, one forbidden edit hidden inside refused', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const nurse = await connect('nurse');
    const observer = await connect('clinician');
    nurse.provider.disconnect();
    const m = marker();
    const text = sectionOf<Y.Text>(nurse.doc, visitId, 'assessment')!;
    for (let i = 0; i < 2000; i++) {
      if (i === 1000) sectionOf(nurse.doc, visitId, 'prescriptions')!.set(m, { drug: m });
      if (i % 2) text.insert(text.length, 'a');
      else sectionOf(nurse.doc, visitId, 'vitals')!.set('heartRate', 60 + (i % 100));
    }
    const expectedText = text.toString();
    nurse.provider.connect();
    await until(() => sectionOf<Y.Text>(observer.doc, visitId, 'assessment')!.toString() === expectedText, 10_000, 'offline text arrives');
    expect(sectionOf(observer.doc, visitId, 'vitals')!.get('heartRate')).toBe(60 + (1998 % 100));
    await until(() => !sectionOf(nurse.doc, visitId, 'prescriptions')!.has(m), 5000, 'hidden forbidden edit reverted');
    expect(sectionOf(observer.doc, visitId, 'prescriptions')!.has(m)).toBe(false);
    expect(Y.encodeStateVector(nurse.doc)).toEqual(Y.encodeStateVector(observer.doc));
    nurse.provider.destroy();
    observer.provider.destroy();
    warn.mockRestore();
  });
});
