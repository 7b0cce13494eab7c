// Attacks on the sync gate from clients built on stock Yjs: deletions of others' work, shape abuse,
// smuggled pending structs, borrowed client ids, forged presence, and random forbidden edits.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import { WRITE_MATRIX, type Role } from '@pamoja/permissions';
import { UNIT_KINDS, docNameFor, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { connectStock, login, registerTestPatient, stockClient, synced, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { recordJson, rng } from '../helpers/record.js';
import { WRITES, marker } from '../helpers/writes.js';
import { CRAFTED_CLIENT, emptyItemAfter, textBetween, valuesAfter } from '../helpers/crafted.js';

let srv: RunningServer;
let patientId: string;
let visitId: string;
const doc = (): string => docNameFor(patientId);
const serverDoc = (): Y.Doc => srv.hub.rooms.get(doc())!.doc;

beforeAll(async () => {
  srv = await testServer();
  ({ id: patientId, visitId } = await registerTestPatient(srv.url, {
    firstName: 'Attack', lastName: 'Target', sex: 'male', dateOfBirth: '1980-05-05',
  }));
});
afterAll(async () => {
  await srv.close();
});

const connect = (username: string) => connectStock(srv.url, doc(), username);

const quiet = () => vi.spyOn(console, 'warn').mockImplementation(() => {});

describe('deleting other people\'s work', () => {
  it('restores a diagnosis and note text that a nurse deletes, for everyone', async () => {
    const w = quiet();
    const clin = await connect('clinician');
    const dx = sectionOf(clin.doc, visitId, 'diagnoses')!;
    dx.set('dxkeep', { code: 'I10', display: 'Essential (primary) hypertension' });
    const para = new Y.XmlElement('paragraph');
    para.insert(0, [new Y.XmlText('Patient reports chest tightness.')]);
    sectionOf<Y.XmlFragment>(clin.doc, visitId, 'notes')!.insert(0, [para]);
    const nurse = await connect('nurse');
    await until(() => sectionOf(nurse.doc, visitId, 'diagnoses')!.has('dxkeep'), 5000, 'nurse sees diagnosis');
    await until(() => sectionOf<Y.XmlFragment>(nurse.doc, visitId, 'notes')!.toString().includes('tightness'), 5000, 'nurse sees notes');
    nurse.doc.transact(() => {
      sectionOf(nurse.doc, visitId, 'diagnoses')!.delete('dxkeep');
      const notes = sectionOf<Y.XmlFragment>(nurse.doc, visitId, 'notes')!;
      notes.delete(0, notes.length);
    });
    await until(() => sectionOf(nurse.doc, visitId, 'diagnoses')!.has('dxkeep'), 5000, 'diagnosis restored at nurse');
    await until(() => sectionOf<Y.XmlFragment>(nurse.doc, visitId, 'notes')!.toString().includes('tightness'), 5000, 'notes restored at nurse');
    expect(sectionOf(clin.doc, visitId, 'diagnoses')!.get('dxkeep')).toEqual({ code: 'I10', display: 'Essential (primary) hypertension' });
    expect(sectionOf<Y.XmlFragment>(clin.doc, visitId, 'notes')!.toString()).toContain('tightness');
    expect(recordJson(clin.doc)).toEqual(recordJson(serverDoc()));
    nurse.provider.destroy();
    clin.provider.destroy();
    w.mockRestore();
  });

  it('survives a delete set covering every clock of another user\'s client', async () => {
    const w = quiet();
    const nurse = await connect('nurse');
    sectionOf(nurse.doc, visitId, 'vitals')!.set('spo2', 97);
    const nurseClient = nurse.doc.clientID;
    const observer = await connect('admin');
    await until(() => sectionOf(observer.doc, visitId, 'vitals')!.get('spo2') === 97, 5000, 'spo2 arrives');
    const before = recordJson(serverDoc());
    // A hand-made update: no structs, one delete range over the nurse's whole clock space.
    const enc = new Y.UpdateEncoderV1();
    enc.restEncoder; // structs section: zero clients
    const bytes = [0, 1, ...varUint(nurseClient), 1, 0, ...varUint(2 ** 30)];
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'clinician'));
    await raw.opened;
    raw.sendUpdate(new Uint8Array(bytes));
    await raw.waitFor((r) => r.type === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(recordJson(serverDoc())).toEqual(before);
    expect(recordJson(observer.doc)).toEqual(before);
    raw.close();
    nurse.provider.destroy();
    observer.provider.destroy();
    w.mockRestore();
  });
});

function varUint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push(0x80 | (n & 0x7f));
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

describe('shape of what a role writes in its own sections', () => {
  const cases: [string, (d: Y.Doc) => void, RegExp][] = [
    ['an unknown triage field', (d) => sectionOf(d, visitId, 'triage')!.set('favouriteColour', 'blue'), /not a field/],
    ['text where a number belongs', (d) => sectionOf(d, visitId, 'vitals')!.set('temperature', 'hot'), /must be a number/],
    ['an impossible temperature', (d) => sectionOf(d, visitId, 'vitals')!.set('temperature', 80), /between/],
    ['a triage category outside the list', (d) => sectionOf(d, visitId, 'triage')!.set('category', 'WHENEVER'), /one of/],
    ['a nested map as a field value', (d) => sectionOf(d, visitId, 'triage')!.set('chiefComplaint', new Y.Map()), /plain value/],
    ['binary data as a field value', (d) => sectionOf(d, visitId, 'vitals')!.set('weight', new Uint8Array([1, 2])), /plain value/],
    ['a subdocument', (d) => sectionOf(d, visitId, 'triage')!.set('chiefComplaint', new Y.Doc()), /Embedded documents/],
    // lib0 encodes a BigInt, which JSON (the audit, the refusal message) cannot write.
    ['a BigInt as a field value', (d) => sectionOf(d, visitId, 'vitals')!.set('heartRate', 72n), /heartRate cannot hold a BigInt/],
    ['an unknown root type', (d) => d.getMap('backdoor').set('x', 1), /not part of a patient record/],
  ];
  for (const [what, write, reason] of cases) {
    it(`refuses ${what} from the nurse and says why`, async () => {
      const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
      await raw.opened;
      const server = serverDoc();
      const local = new Y.Doc();
      Y.applyUpdate(local, Y.encodeStateAsUpdate(server));
      const sv = Y.encodeStateVector(local);
      const before = recordJson(server);
      write(local);
      raw.sendUpdate(Y.encodeStateAsUpdate(local, sv));
      const refusal = await raw.waitFor((r) => r.type === 2);
      expect(refusal.reason).toMatch(reason);
      expect(raw.exts('refused')[0]?.refusals).toBeDefined();
      expect(recordJson(serverDoc())).toEqual(before);
      raw.close();
    });
  }
});

describe('names every object has (constructor, toString, __proto__ ...)', () => {
  const junk = (): { junk: string } => ({ junk: 'x'.repeat(2_000_000) });

  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    it(`a nurse cannot set vitals.${name} to a 2 MB object: it is not a field`, async () => {
      const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
      await raw.opened;
      const local = await raw.fetchDoc();
      const sv = Y.encodeStateVector(local);
      sectionOf(local, visitId, 'vitals')!.set(name, junk());
      raw.sendUpdate(Y.encodeStateAsUpdate(local, sv));
      expect((await raw.waitFor((r) => r.type === 2)).reason).toMatch(`"${name}" is not a field of vitals`);
      await raw.waitFor((r) => r.ext?.type === 'saved');
      expect(sectionOf(serverDoc(), visitId, 'vitals')!.has(name)).toBe(false);
      srv.ctx.queue.flush();
      expect(sectionOf(srv.ctx.docs.load(doc()).doc, visitId, 'vitals')!.has(name)).toBe(false);
      raw.close();
    });
  }

  it('a clinician cannot hide 2 MB in a diagnosis under constructor or toString: they are not fields of an entry', async () => {
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'clinician'));
    await raw.opened;
    const local = await raw.fetchDoc();
    const sv = Y.encodeStateVector(local);
    const dx = sectionOf(local, visitId, 'diagnoses')!;
    // Yjs's own API will not take an object with such keys; the bytes it writes for one changed after
    // the fact carry them all the same.
    const withCtor: Record<string, unknown> = { code: 'I10' };
    const withToString: Record<string, unknown> = { code: 'I10' };
    dx.set('dx-ctor', withCtor);
    dx.set('dx-tostring', withToString);
    Object.assign(withCtor, { constructor: junk() });
    Object.assign(withToString, { toString: 'x'.repeat(2_000_000) });
    raw.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    await raw.waitFor((r) => r.ext?.type === 'saved');
    const reasons = raw.refusals().join('\n');
    expect(reasons).toMatch('entry.constructor is not a known field');
    expect(reasons).toMatch('entry.toString is not a known field');
    expect(sectionOf(serverDoc(), visitId, 'diagnoses')!.has('dx-ctor')).toBe(false);
    expect(sectionOf(serverDoc(), visitId, 'diagnoses')!.has('dx-tostring')).toBe(false);
    raw.close();
  });
});

describe('values JSON cannot write', () => {
  it('a nurse\'s BigInt heart rate is refused with a reason, and another user\'s edit on another record in the same commit batch is saved and acknowledged', async () => {
    const other = await registerTestPatient(srv.url, { firstName: 'Same', lastName: 'Batch', sex: 'female', dateOfBirth: '1985-02-02' });
    const otherDoc = docNameFor(other.id);
    const nurse = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    const reception = new RawClient(srv.url, otherDoc, await login(srv.url, 'reception'));
    await Promise.all([nurse.opened, reception.opened]);
    const nurseCopy = await nurse.fetchDoc();
    const receptionCopy = await reception.fetchDoc();
    const roomA = srv.hub.rooms.get(doc())!;
    const roomB = srv.hub.rooms.get(otherDoc)!;
    type Conn = Parameters<typeof roomA.receiveUpdate>[0];
    /** The user's newest connection to the room: the one just opened. */
    const connOf = (room: typeof roomA, username: string): Conn => [...room.conns].filter((c) => c.actor.username === username).at(-1)!;
    const svA = Y.encodeStateVector(nurseCopy);
    sectionOf(nurseCopy, visitId, 'vitals')!.set('heartRate', 72n);
    const bigint = Y.encodeStateAsUpdate(nurseCopy, svA);
    const svB = Y.encodeStateVector(receptionCopy);
    receptionCopy.getMap('contact').set('phone', '+254 711 000 111');
    const phone = Y.encodeStateAsUpdate(receptionCopy, svB);
    await until(() => srv.ctx.queue.pending === 0, 5000, 'no batch open');
    const failures = srv.ctx.queue.stats.failures;

    // Both in one turn of the server's loop, as when two sockets' messages arrive together. The
    // receptionist's update is checked and queued here; the nurse's by the server as it handles any
    // message, before anything can commit the open batch: both are in it.
    roomA.receiveUpdate(connOf(roomA, 'nurse'), bigint);
    roomB.receiveUpdate(connOf(roomB, 'reception'), phone);
    roomB.drainInbox();
    expect(srv.ctx.queue.pending).toBeGreaterThan(0);

    await reception.waitFor((r) => r.ext?.type === 'saved');
    expect(srv.ctx.queue.stats.failures).toBe(failures);
    expect(srv.ctx.docs.load(otherDoc).doc.getMap('contact').get('phone')).toBe('+254 711 000 111');
    expect((await nurse.waitFor((r) => r.type === 2)).reason).toMatch('heartRate cannot hold a BigInt');
    await nurse.waitFor((r) => r.ext?.type === 'saved');
    expect(nurse.exts('refused')[0]?.refusals).toEqual([
      { path: `visits/${visitId}/vitals/heartRate`, reason: 'heartRate cannot hold a BigInt', tried: '72n' },
    ]);
    expect(nurse.closed).toBeNull();
    expect(typeof sectionOf(srv.ctx.docs.load(doc()).doc, visitId, 'vitals')!.get('heartRate')).not.toBe('bigint');
    const row = srv.ctx.db.prepare('SELECT new_value, outcome FROM audit WHERE patient_id = ? AND path = ? ORDER BY id DESC LIMIT 1')
      .get(patientId, `visits/${visitId}/vitals/heartRate`);
    expect(row).toEqual({ new_value: '72n', outcome: 'reverted-forbidden' });
    expect(srv.ctx.audit.verify().ok).toBe(true);
    nurse.close();
    reception.close();
  });
});

describe('smuggling', () => {
  it('refuses an update whose structs wait on changes the server never saw, and keeps nothing pending', async () => {
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await raw.opened;
    const local = new Y.Doc();
    Y.applyUpdate(local, Y.encodeStateAsUpdate(serverDoc()));
    const vitals = sectionOf(local, visitId, 'vitals')!;
    vitals.set('heartRate', 71);
    const svAfterFirst = Y.encodeStateVector(local);
    const m = marker();
    sectionOf(local, visitId, 'triage')!.set('chiefComplaint', m);
    raw.sendUpdate(Y.encodeStateAsUpdate(local, svAfterFirst));
    const refusal = await raw.waitFor((r) => r.type === 2);
    expect(refusal.reason).toMatch(/depends on changes the server does not have/);
    expect(serverDoc().store.pendingStructs).toBeNull();
    expect(serverDoc().store.pendingDs).toBeNull();
    // The missing piece arriving later must not pull the smuggled struct in.
    const nurse = await connect('nurse');
    sectionOf(nurse.doc, visitId, 'vitals')!.set('respiratoryRate', 18);
    await until(() => sectionOf(serverDoc(), visitId, 'vitals')!.get('respiratoryRate') === 18, 5000, 'later edit lands');
    expect(JSON.stringify(recordJson(serverDoc()))).not.toContain(m);
    raw.close();
    nurse.provider.destroy();
  });

  it('drops changes sent under a Yjs client id that belongs to another person, and keeps the sender\'s own', async () => {
    const w = quiet();
    const nurse = await connect('nurse');
    sectionOf(nurse.doc, visitId, 'vitals')!.set('weight', 70);
    await until(() => sectionOf(serverDoc(), visitId, 'vitals')!.get('weight') === 70, 5000, 'weight lands');
    const forged = new Y.Doc();
    Y.applyUpdate(forged, Y.encodeStateAsUpdate(serverDoc()));
    forged.clientID = nurse.doc.clientID;
    const sv = Y.encodeStateVector(forged);
    sectionOf(forged, visitId, 'diagnoses')!.set('forged', { code: 'B54' });
    // The same message carries the clinician's own edit under a session of her own: that part is kept.
    forged.clientID = 0x5eed;
    sectionOf(forged, visitId, 'diagnoses')!.set('own', { code: 'J18.9' });
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'clinician'));
    await raw.opened;
    raw.sendUpdate(Y.encodeStateAsUpdate(forged, sv));
    expect((await raw.waitFor((r) => r.type === 2)).reason).toMatch(/another person's session/);
    await until(() => sectionOf(serverDoc(), visitId, 'diagnoses')!.has('own'), 5000, 'own edit kept');
    // The nurse's real next edit, at the clock the forger tried to take, still lands.
    sectionOf(nurse.doc, visitId, 'vitals')!.set('weight', 71);
    await until(() => sectionOf(serverDoc(), visitId, 'vitals')!.get('weight') === 71, 5000, 'nurse edit not shadowed');
    expect(sectionOf(serverDoc(), visitId, 'diagnoses')!.has('forged')).toBe(false);
    raw.close();
    nurse.provider.destroy();
    w.mockRestore();
  });
});

describe('updates that would leave the record stuck or inconsistent', () => {
  /** A copy built from what the server sends a new client: what anyone loading the record gets. */
  const rebuiltFromServer = (): Y.Doc => {
    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, Y.encodeStateAsUpdate(serverDoc()));
    return fresh;
  };

  /** Waits until the hub has opened a fresh copy of the record in place of `old`. */
  const reopened = (old: unknown): Promise<void> =>
    until(() => {
      const r = srv.hub.rooms.get(doc());
      return r !== undefined && r !== old && r.broken === null;
    }, 5000, 'the record reopened from disk');

  it('refuses an empty item, and the record then still syncs and still refuses forbidden edits', async () => {
    const w = quiet();
    const nurse = await connect('nurse');
    const clin = await connect('clinician');
    const vitals = sectionOf(nurse.doc, visitId, 'vitals')!;
    vitals.set('temperature', 37.0);
    const overwritten = (vitals as unknown as { _map: Map<string, Y.Item> })._map.get('temperature')!.id;
    vitals.set('temperature', 37.4);
    await until(() => sectionOf(serverDoc(), visitId, 'vitals')!.get('temperature') === 37.4, 5000, 'temperature lands');
    const attack = emptyItemAfter(overwritten);
    // What this defends against: plain Yjs, given this update, never finishes the transaction.
    const plain = new Y.Doc();
    Y.applyUpdate(plain, Y.encodeStateAsUpdate(serverDoc()));
    expect(() => Y.applyUpdate(plain, attack)).toThrow();
    expect(plain._transactionCleanups.length).toBe(1);

    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await raw.opened;
    raw.sendUpdate(attack);
    const closed = await raw.waitClosed();
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/empty list of values/);
    expect(serverDoc()._transactionCleanups.length).toBe(0);
    expect(Y.getState(serverDoc().store, CRAFTED_CLIENT)).toBe(0);
    // The room goes on: an edit reaches the others, and a forbidden one is still taken back.
    vitals.set('heartRate', 91);
    await until(() => sectionOf(clin.doc, visitId, 'vitals')!.get('heartRate') === 91, 5000, 'heart rate reaches the clinician');
    const m = marker();
    sectionOf(nurse.doc, visitId, 'diagnoses')!.set('nurse-dx', { code: m });
    await until(() => !sectionOf(nurse.doc, visitId, 'diagnoses')!.has('nurse-dx'), 5000, 'forbidden diagnosis undone at the nurse');
    vitals.set('heartRate', 92);
    await until(() => sectionOf(clin.doc, visitId, 'vitals')!.get('heartRate') === 92, 5000, 'later edit reaches the clinician');
    expect(JSON.stringify(recordJson(clin.doc))).not.toContain(m);
    const stored = srv.ctx.docs.load(doc()).doc;
    expect(JSON.stringify(recordJson(stored))).not.toContain(m);
    expect(recordJson(stored)).toEqual(recordJson(serverDoc()));
    expect(recordJson(clin.doc)).toEqual(recordJson(serverDoc()));
    nurse.provider.destroy();
    clin.provider.destroy();
    w.mockRestore();
  });

  it('refuses a map entry holding several values, which copies of the record would rebuild differently', async () => {
    const w = quiet();
    const nurse = await connect('nurse');
    sectionOf(nurse.doc, visitId, 'vitals')!.set('systolic', 120);
    const current = (sectionOf(nurse.doc, visitId, 'vitals') as unknown as { _map: Map<string, Y.Item> })._map.get('systolic')!.id;
    await until(() => sectionOf(serverDoc(), visitId, 'vitals')!.get('systolic') === 120, 5000, 'systolic lands');
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await raw.opened;
    const before = srv.hub.rooms.get(doc())!;
    raw.sendUpdate(valuesAfter(current, [121, 122, 123], 0x7e58)); // after the current value
    const closed = await raw.waitClosed();
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/several values/);
    // Yjs had integrated it: the record is reopened from disk, where none of it went.
    await reopened(before);
    await synced(nurse.provider);
    expect(sectionOf(serverDoc(), visitId, 'vitals')!.get('systolic')).toBe(120);
    expect(Y.getState(serverDoc().store, 0x7e58)).toBe(0);
    expect(recordJson(nurse.doc)).toEqual(recordJson(serverDoc()));
    nurse.provider.destroy();
    w.mockRestore();
  });

  it('refuses an item re-sent at a clock the server has, whose rest would sit beside an item elsewhere', async () => {
    const w = quiet();
    const copy = (): Y.Doc => {
      const d = new Y.Doc();
      Y.applyUpdate(d, Y.encodeStateAsUpdate(serverDoc()));
      d.clientID = 0x7e59;
      return d;
    };
    // Clock 0 of this session is a pain score; then the same clock again, as text in the assessment.
    const first = copy();
    const sv = Y.encodeStateVector(first);
    sectionOf(first, visitId, 'vitals')!.set('painScore', 2);
    const second = copy();
    sectionOf<Y.Text>(second, visitId, 'assessment')!.insert(0, 'stray words');
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await raw.opened;
    raw.sendUpdate(Y.encodeStateAsUpdate(first, sv));
    await until(() => sectionOf(serverDoc(), visitId, 'vitals')!.get('painScore') === 2, 5000, 'pain score lands');
    const nurse = await connect('nurse');
    const before = srv.hub.rooms.get(doc())!;
    raw.sendUpdate(Y.encodeStateAsUpdate(second, sv));
    const closed = await raw.waitClosed();
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/beside one in another part/);
    await reopened(before);
    await synced(nurse.provider);
    expect(sectionOf(serverDoc(), visitId, 'vitals')!.get('painScore')).toBe(2);
    // What the server holds is what anyone loading it from scratch gets.
    const fresh = rebuiltFromServer();
    expect(Y.encodeStateAsUpdate(fresh, Y.encodeStateVector(fresh))).toEqual(Y.encodeStateAsUpdate(serverDoc(), Y.encodeStateVector(serverDoc())));
    expect(recordJson(fresh)).toEqual(recordJson(serverDoc()));
    expect(sectionOf<Y.Text>(serverDoc(), visitId, 'assessment')!.toString()).not.toContain('tray words');
    expect(recordJson(nurse.doc)).toEqual(recordJson(serverDoc()));
    nurse.provider.destroy();
    w.mockRestore();
  });

  it('refuses text whose right origin lies left of its origin, which a copy rebuilt from memory would put elsewhere', async () => {
    const w = quiet();
    const nurse = await connect('nurse');
    const client = nurse.doc.clientID;
    const clock = Y.getState(nurse.doc.store, client);
    sectionOf<Y.Text>(nurse.doc, visitId, 'assessment')!.insert(0, 'abcdef');
    await until(() => sectionOf<Y.Text>(serverDoc(), visitId, 'assessment')!.toString().includes('abcdef'), 5000, 'the text lands');
    const text = sectionOf<Y.Text>(serverDoc(), visitId, 'assessment')!.toString();
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await raw.opened;
    const before = srv.hub.rooms.get(doc())!;
    // After 'e', before 'b'. The server's copy splits 'abcdef' at 'e' for the origin, then at 'b' for
    // the right origin, which leaves the origin's piece as just 'a': it put the text after 'a'.
    // Rebuilt from that copy, the pieces are cut differently and the text lands elsewhere (after 'e',
    // or at the end, depending on client ids).
    raw.sendUpdate(textBetween({ client, clock: clock + 4 }, { client, clock: clock + 1 }, 'XY', 0x7e5c));
    const closed = await raw.waitClosed();
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/not placed between its neighbours/);
    await reopened(before);
    await synced(nurse.provider);
    expect(sectionOf<Y.Text>(serverDoc(), visitId, 'assessment')!.toString()).toBe(text);
    expect(Y.getState(serverDoc().store, 0x7e5c)).toBe(0);
    expect(recordJson(rebuiltFromServer())).toEqual(recordJson(serverDoc()));
    expect(recordJson(srv.ctx.docs.load(doc()).doc)).toEqual(recordJson(serverDoc()));
    expect(recordJson(nurse.doc)).toEqual(recordJson(serverDoc()));
    nurse.provider.destroy();
    w.mockRestore();
  });

  it('opens the fresh copy with every edit accepted before the breakdown, even one its batch has not committed yet', async () => {
    const w = quiet();
    const nurse = await connect('nurse');
    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'));
    await raw.opened;
    const room = srv.hub.rooms.get(doc())!;
    await until(() => room.conns.size >= 2, 5000, 'both connections in the room');
    const [byNurse, byRaw] = [...room.conns].slice(-2) as [Parameters<typeof room.receiveUpdate>[0], Parameters<typeof room.receiveUpdate>[0]];
    const copy = (client: number): Y.Doc => {
      const d = new Y.Doc();
      Y.applyUpdate(d, Y.encodeStateAsUpdate(room.doc));
      d.clientID = client;
      return d;
    };
    const edit = copy(0x7e5a);
    const editSv = Y.encodeStateVector(edit);
    sectionOf(edit, visitId, 'vitals')!.set('heartRate', 97);
    const first = copy(0x7e5b);
    const sv = Y.encodeStateVector(first);
    sectionOf(first, visitId, 'vitals')!.set('weight', 70);
    const stray = copy(0x7e5b);
    sectionOf<Y.Text>(stray, visitId, 'assessment')!.insert(0, 'stray words');
    // All in one turn of the server's loop, as when messages from several sockets arrive together:
    // two edits accepted (their batch still open), then a third connection's update that Yjs
    // integrates before the gate finds it malformed, and the room is opened again at once.
    room.receiveUpdate(byRaw, Y.encodeStateAsUpdate(first, sv));
    room.receiveUpdate(byNurse, Y.encodeStateAsUpdate(edit, editSv));
    room.receiveUpdate(byRaw, Y.encodeStateAsUpdate(stray, sv));
    room.drainInbox();
    expect(room.broken).not.toBeNull();
    const fresh = srv.hub.open(doc());
    expect(fresh).not.toBe(room);
    expect(sectionOf(fresh.doc, visitId, 'vitals')!.get('heartRate')).toBe(97);
    expect(sectionOf(fresh.doc, visitId, 'vitals')!.get('weight')).toBe(70);
    // The nurse's client reconnects to the fresh copy and holds what it holds.
    await synced(nurse.provider);
    await until(() => {
      const r = srv.hub.rooms.get(doc());
      return r !== undefined && JSON.stringify(recordJson(nurse.doc)) === JSON.stringify(recordJson(r.doc));
    }, 5000, 'the nurse converged');
    expect(sectionOf(nurse.doc, visitId, 'vitals')!.get('heartRate')).toBe(97);
    nurse.provider.destroy();
    raw.close();
    w.mockRestore();
  });

  // Two failures inside Yjs: one in its end-of-transaction work (the document never leaves that
  // transaction), one in an observer (the change is in memory, yet nothing reaches the disk).
  const failures: [string, 'afterTransactionCleanup' | 'afterTransaction', number][] = [
    ['is stuck in a transaction', 'afterTransactionCleanup', 60],
    ['holds a change it never stored', 'afterTransaction', 70],
  ];
  for (const [what, hook, kg] of failures) {
    it(`a record whose copy in memory ${what} is reopened from disk, and the edit that met the failure still lands`, async () => {
      const w = quiet();
      const e = vi.spyOn(console, 'error').mockImplementation(() => {});
      const nurse = await connect('nurse');
      const clin = await connect('clinician');
      const closes: number[] = [];
      for (const c of [nurse, clin]) c.provider.on('connection-close', (ev: CloseEvent | null) => void closes.push(ev?.code ?? 0));
      const vitals = sectionOf(nurse.doc, visitId, 'vitals')!;
      vitals.set('weight', kg);
      await until(() => sectionOf(clin.doc, visitId, 'vitals')!.get('weight') === kg, 5000, 'weight reaches the clinician');
      const failing = srv.hub.rooms.get(doc())!;
      failing.doc.once(hook, () => {
        throw new Error('injected failure');
      });
      vitals.set('weight', kg + 1);
      await until(() => closes.filter((c) => c === 1012).length === 2, 5000, 'both told to reconnect');
      expect(failing.broken).toMatch(/injected failure/);
      await until(() => srv.hub.rooms.get(doc()) !== undefined && srv.hub.rooms.get(doc()) !== failing, 5000, 'a fresh copy is opened');
      // The nurse's client sends what the server lacks when it reconnects: the weight arrives after all.
      await until(() => sectionOf(clin.doc, visitId, 'vitals')!.get('weight') === kg + 1, 10_000, 'the weight reaches the clinician');
      await until(() => sectionOf(serverDoc(), visitId, 'vitals')!.get('weight') === kg + 1, 5000, 'and the server');
      vitals.set('weight', kg + 2);
      await until(() => sectionOf(clin.doc, visitId, 'vitals')!.get('weight') === kg + 2, 5000, 'later edit reaches the clinician');
      expect(Y.encodeStateVector(nurse.doc)).toEqual(Y.encodeStateVector(serverDoc()));
      await until(() => sectionOf(srv.ctx.docs.load(doc()).doc, visitId, 'vitals')!.get('weight') === kg + 2, 5000, 'the later edit on disk');
      expect(recordJson(srv.ctx.docs.load(doc()).doc)).toEqual(recordJson(clin.doc));
      nurse.provider.destroy();
      clin.provider.destroy();
      e.mockRestore();
      w.mockRestore();
    });
  }
});

describe('presence', () => {
  it('stamps presence with the real identity and refuses to set or clear other clients\' presence', async () => {
    const nurse = await connect('nurse');
    const observer = await connect('reception');
    nurse.provider.awareness.setLocalState({ user: { name: 'Dr. Impostor', role: 'CLINICAL_OFFICER' }, section: 'vitals', activity: 'typing' });
    await until(() => (observer.provider.awareness.getStates().get(nurse.doc.clientID) as { user?: { name?: string } } | undefined)?.user?.name !== undefined, 5000, 'presence arrives');
    const seen = observer.provider.awareness.getStates().get(nurse.doc.clientID) as { user: { name: string; role: string }; activity: string };
    expect(seen.user.name).toBe('Sarah Achieng');
    expect(seen.user.role).toBe('NURSE');
    expect(seen.activity).toBe('typing');

    const raw = new RawClient(srv.url, doc(), await login(srv.url, 'cashier'));
    await raw.opened;
    const fake = new Y.Doc();
    fake.clientID = nurse.doc.clientID;
    const aw = new awarenessProtocol.Awareness(fake);
    aw.setLocalState({ user: { name: 'Cashier pretending' } });
    aw.setLocalState(null); // a removal of the nurse's presence, at a newer clock
    raw.sendAwareness(awarenessProtocol.encodeAwarenessUpdate(aw, [fake.clientID]));
    expect((await raw.waitFor((r) => r.type === 2)).reason).toMatch(/only set your own presence/);
    await new Promise((r) => setTimeout(r, 100));
    expect((observer.provider.awareness.getStates().get(nurse.doc.clientID) as { user: { name: string } }).user.name).toBe('Sarah Achieng');
    raw.close();
    nurse.provider.destroy();
    observer.provider.destroy();
  });
});

describe('random forbidden edits (property)', () => {
  it('never leak, never persist, and the sender always converges', async () => {
    const w = quiet();
    const writers: Record<Exclude<Role, 'ADMIN'>, string> = {
      RECEPTIONIST: 'reception', NURSE: 'nurse', CLINICAL_OFFICER: 'clinician', LAB_TECHNICIAN: 'lab', PHARMACIST: 'pharmacy', CASHIER: 'cashier',
    };
    const clients = Object.fromEntries(await Promise.all(Object.entries(writers).map(async ([r, u]) => [r, await connect(u)]))) as Record<string, Awaited<ReturnType<typeof connect>>>;
    const observer = await connect('admin');
    // Content for attackers to delete.
    sectionOf<Y.Text>(clients.NURSE!.doc, visitId, 'assessment')!.insert(0, 'Alert and oriented. ');
    sectionOf(clients.CLINICAL_OFFICER!.doc, visitId, 'prescriptions')!.set('rxbase', { drug: 'Paracetamol 500 mg' });
    sectionOf(clients.CASHIER!.doc, visitId, 'billing')!.set('amountDue', 1500);
    await until(() => sectionOf(observer.doc, visitId, 'billing')!.get('amountDue') === 1500 && sectionOf(observer.doc, visitId, 'prescriptions')!.has('rxbase'), 5000, 'base content');
    const rand = rng(20261121);
    const roles = Object.keys(writers) as Exclude<Role, 'ADMIN'>[];
    for (let i = 0; i < 40; i++) {
      const role = roles[Math.floor(rand() * roles.length)]!;
      const forbidden = UNIT_KINDS.filter((k) => !WRITE_MATRIX[k].includes(role) && k !== 'visits/*/workflow');
      const kind = forbidden[Math.floor(rand() * forbidden.length)]!;
      const c = clients[role]!;
      await until(() => JSON.stringify(recordJson(c.doc)) === JSON.stringify(recordJson(serverDoc())), 15_000, `client current ${role} ${i} ${JSON.stringify(recordJson(c.doc))} ${JSON.stringify(recordJson(serverDoc()))}`);
      const before = JSON.stringify(recordJson(serverDoc()));
      const op = rand();
      if (op < 0.2 && kind === 'visits/*/assessment') {
        const t = sectionOf<Y.Text>(c.doc, visitId, 'assessment')!;
        t.delete(0, Math.min(5, t.length));
      } else if (op < 0.2 && kind === 'visits/*/prescriptions') {
        sectionOf(c.doc, visitId, 'prescriptions')!.delete('rxbase');
      } else if (op < 0.2 && kind === 'visits/*/billing') {
        sectionOf(c.doc, visitId, 'billing')!.delete('amountDue');
      } else {
        WRITES[kind](c.doc, visitId, marker());
      }
      await until(() => JSON.stringify(recordJson(c.doc)) === before, 15_000, `${role} ${kind} reverted (iteration ${i})`);
      expect(JSON.stringify(recordJson(serverDoc()))).toBe(before);
    }
    await until(() => JSON.stringify(recordJson(observer.doc)) === JSON.stringify(recordJson(serverDoc())), 5000, 'observer current');
    expect(JSON.stringify(recordJson(observer.doc))).not.toContain('MK');
    srv.ctx.queue.flush();
    const bytes = Buffer.concat((srv.ctx.db.prepare('SELECT data FROM doc_updates WHERE doc = ?').all(doc()) as { data: Buffer }[]).map((r) => r.data));
    expect(bytes.includes('MK')).toBe(false);
    for (const c of [...Object.values(clients), observer]) c.provider.destroy();
    w.mockRestore();
  });
});

describe('workflow rules over WebSocket', () => {
  it('refuses sending a visit to the lab when no test is ordered, and allows it once one is', async () => {
    const w = quiet();
    const r = { body: await registerTestPatient(srv.url, {
      firstName: 'Lab', lastName: 'Rule', sex: 'female', dateOfBirth: '1991-01-01',
    }) };
    const name = docNameFor(r.body.id);
    const nurse = stockClient(srv.url, name, await login(srv.url, 'nurse'));
    await synced(nurse.provider);
    sectionOf(nurse.doc, r.body.visitId, 'workflow')!.set('status', 'CONSULTATION');
    const clin = stockClient(srv.url, name, await login(srv.url, 'clinician'));
    await synced(clin.provider);
    await until(() => sectionOf(clin.doc, r.body.visitId, 'workflow')!.get('status') === 'CONSULTATION', 5000, 'in consultation');
    const wf = sectionOf(clin.doc, r.body.visitId, 'workflow')!;
    wf.set('status', 'LAB');
    await until(() => wf.get('status') === 'CONSULTATION', 5000, 'lab without order reverted');
    await until(() => w.mock.calls.some((c) => String(c[0]).includes('only when a lab test is ordered')), 5000, 'told why');
    sectionOf(clin.doc, r.body.visitId, 'labOrders')!.set('ord1', { test: 'Full blood count', loinc: '58410-2' });
    wf.set('status', 'LAB');
    await until(() => sectionOf(srv.hub.rooms.get(name)!.doc, r.body.visitId, 'workflow')!.get('status') === 'LAB', 5000, 'lab with order kept');
    nurse.provider.destroy();
    clin.provider.destroy();
    w.mockRestore();
  });
});

describe('presence relays', () => {
  it('stock clients echoing others\' presence are not told off, and a departed user leaves no ghost', async () => {
    const warn = quiet();
    const a = await connect('nurse');
    const b = await connect('clinician');
    a.provider.awareness.setLocalStateField('section', 'vitals');
    b.provider.awareness.setLocalStateField('section', 'notes');
    await until(() => b.provider.awareness.getStates().has(a.doc.clientID) && a.provider.awareness.getStates().has(b.doc.clientID), 5000, 'both see each other');
    a.provider.awareness.setLocalStateField('activity', 'typing');
    await until(() => (b.provider.awareness.getStates().get(a.doc.clientID) as { activity?: string } | undefined)?.activity === 'typing', 5000, 'typing seen');
    await new Promise((r) => setTimeout(r, 200));
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('own presence'))).toEqual([]);
    const aId = a.doc.clientID;
    a.provider.destroy();
    await until(() => !b.provider.awareness.getStates().has(aId), 5000, 'departed user gone');
    await new Promise((r) => setTimeout(r, 200));
    expect(srv.hub.rooms.get(doc())!.awareness.getStates().has(aId)).toBe(false);
    b.provider.destroy();
    warn.mockRestore();
  });
});
