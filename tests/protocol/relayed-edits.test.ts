// A colleague's device holding edits the server lost (a power cut after they were sent on, before
// their fsync) sends them back with its own state when it reconnects ahead of their author's device.
// The state is built here directly: the author's unsaved change is applied to the colleague's copy,
// as the room had sent it, and never reaches the server from its author until the test says so.

import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docNameFor, sectionOf } from '@pamoja/schema';
import { api, login, stockClient, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import type { RunningServer } from '../../apps/sync-server/src/index.js';

let srv: RunningServer | null = null;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.close();
  srv = null;
});

interface Device {
  client: RawClient;
  doc: Y.Doc;
}

/** A device on the record: its own copy, synced once. */
async function device(s: RunningServer, doc: string, token: string): Promise<Device> {
  const client = new RawClient(s.url, doc, token);
  clients.push(client);
  await client.opened;
  return { client, doc: await client.fetchDoc() };
}

/** Makes a change on a device's copy; returns the update it makes, not sent anywhere. */
function change(d: Device, fn: (doc: Y.Doc) => void): Uint8Array {
  const sv = Y.encodeStateVector(d.doc);
  fn(d.doc);
  return Y.encodeStateAsUpdate(d.doc, sv);
}

/** Sends an update and waits for its `saved`. */
async function sendSaved(d: Device, update: Uint8Array): Promise<void> {
  const before = d.client.savedCount();
  d.client.sendUpdate(update);
  await d.client.waitFor(() => d.client.savedCount() > before, 5000);
}

/** What a device sends the server when it reconnects: everything the server's copy lacks. */
function reconnectState(s: RunningServer, doc: string, d: Device): Uint8Array {
  return Y.encodeStateAsUpdate(d.doc, Y.encodeStateVector(s.hub.rooms.get(doc)!.doc));
}

async function setup(relayerRole: 'clinician' | 'nurse2') {
  srv = await testServer();
  const s = srv;
  const nurseToken = await login(s.url, 'nurse');
  const { id, visitId } = (await api<{ id: string; visitId: string }[]>(s.url, nurseToken, 'GET', '/api/patients')).body[0]!;
  const doc = docNameFor(id);
  let relayerToken: string;
  if (relayerRole === 'nurse2') {
    const admin = await login(s.url, 'admin');
    const made = await api(s.url, admin, 'POST', '/admin/users', { username: 'nurse2', name: 'Second Nurse', role: 'NURSE', password: 'longenough' });
    expect(made.status).toBe(201);
    relayerToken = await login(s.url, 'nurse2', 'longenough');
  } else relayerToken = await login(s.url, 'clinician');
  const nurse = await device(s, doc, nurseToken);
  const relayer = await device(s, doc, relayerToken);
  const vitals = (d: Y.Doc) => sectionOf(d, visitId, 'vitals')!;
  // The nurse saves a pain score of 5, and the relayer's device gets it.
  const first = change(nurse, (d) => vitals(d).set('painScore', 5));
  await sendSaved(nurse, first);
  Y.applyUpdate(relayer.doc, first);
  const serverValue = (): unknown => vitals(s.hub.rooms.get(doc)!.doc).get('painScore');
  expect(serverValue()).toBe(5);
  return { s, doc, visitId, nurse, relayer, vitals, serverValue };
}

describe('edits relayed by a colleague after the server lost them', () => {
  it('a clinician sending back a nurse\'s unsaved overwrite is not refused for it, nothing is written back, and the nurse\'s resend wins', async () => {
    const { s, doc, nurse, relayer, vitals, serverValue } = await setup('clinician');
    // The nurse changes it to 3; the room sent it on; the server lost it.
    const lost = change(nurse, (d) => vitals(d).set('painScore', 3));
    Y.applyUpdate(relayer.doc, lost);
    const refusedBefore = relayer.client.exts('refused').length;
    await sendSaved(relayer, reconnectState(s, doc, relayer));
    // Not the clinician's change: no refusal about the vital sign, and the saved value stays.
    const refusedPaths = relayer.client.exts('refused').slice(refusedBefore).flatMap((r) => (r.refusals as { path: string }[]).map((x) => x.path));
    expect(refusedPaths.filter((p) => p.includes('vitals'))).toEqual([]);
    expect(serverValue()).toBe(5);
    // Judged as the clinician's, the old value was written back by the server, and that copy could
    // beat the nurse's own resend below, depending on how the session ids happened to order.
    const room = s.hub.rooms.get(doc)!;
    expect(Y.getState(room.doc.store, room.doc.clientID)).toBe(0);
    // The nurse's device comes back and sends it: saved, and it is the value.
    await sendSaved(nurse, lost);
    expect(serverValue()).toBe(3);
    expect(room.doc.getMap('conflicts').size).toBe(0);
    s.ctx.queue.flush(); // the audit rows of the last edits may still be kept in their log rows
    const audit = s.ctx.db.prepare("SELECT u.username FROM audit a JOIN users u ON u.id = a.user_id WHERE a.path LIKE '%painScore' AND a.action = 'UPDATE'").all() as { username: string }[];
    expect(audit.map((r) => r.username)).toEqual(['nurse', 'nurse']);
  });

  it('a second nurse sending back a colleague\'s unsaved overwrite does not delete the saved value when the colleague never returns', async () => {
    const { s, doc, nurse, relayer, vitals, serverValue } = await setup('nurse2');
    const lost = change(nurse, (d) => vitals(d).set('painScore', 3));
    Y.applyUpdate(relayer.doc, lost);
    await sendSaved(relayer, reconnectState(s, doc, relayer));
    // The second nurse may write vital signs, but the deletion was the first nurse's: applied, it
    // left the field empty, the saved 5 gone and the 3 never to come.
    expect(serverValue()).toBe(5);
  });

  it('the colleague\'s own work sent with the relayed edits is saved, not refused and deleted with them', async () => {
    const { s, doc, visitId, nurse, relayer, vitals, serverValue } = await setup('clinician');
    // Two overwrites by the nurse the server lost: the second deletes the first, an item the server
    // never gets from the clinician.
    Y.applyUpdate(relayer.doc, change(nurse, (d) => vitals(d).set('painScore', 3)));
    Y.applyUpdate(relayer.doc, change(nurse, (d) => vitals(d).set('painScore', 4)));
    // The clinician writes a plan of their own, offline.
    change(relayer, (d) => sectionOf(d, visitId, 'consultation')!.set('plan', 'Review in two weeks'));
    await sendSaved(relayer, reconnectState(s, doc, relayer));
    const room = s.hub.rooms.get(doc)!;
    expect(sectionOf(room.doc, visitId, 'consultation')!.get('plan')).toBe('Review in two weeks');
    expect(serverValue()).toBe(5);
    // And on disk, as a restart would load it.
    const fromDisk = s.ctx.docs.load(doc).doc;
    expect(sectionOf(fromDisk, visitId, 'consultation')!.get('plan')).toBe('Review in two weeks');
    // The relayer's next sync sends the same again: nothing changes, nothing is lost.
    await sendSaved(relayer, reconnectState(s, doc, relayer));
    expect(sectionOf(room.doc, visitId, 'consultation')!.get('plan')).toBe('Review in two weeks');
  });

  it('the colleague\'s change that builds on the lost edits is not saved but held, its device is asked for it again once they arrive, and what does not build on them is saved', async () => {
    const { s, doc, visitId, nurse, relayer, vitals } = await setup('nurse2');
    const assessment = (d: Y.Doc) => sectionOf<Y.Text>(d, visitId, 'assessment')!;
    // The first nurse's note the server lost; offline, the second nurse records a heart rate, then
    // adds to that note (her text is placed after the first nurse's, which the server does not have).
    const lost = change(nurse, (d) => assessment(d).insert(0, 'Alert, no distress.'));
    Y.applyUpdate(relayer.doc, lost);
    change(relayer, (d) => vitals(d).set('heartRate', 88));
    change(relayer, (d) => assessment(d).insert(assessment(d).length, ' BP rechecked.'));
    const refusedBefore = relayer.client.exts('refused').length;
    const savedBefore = relayer.client.savedCount();
    relayer.client.sendUpdate(reconnectState(s, doc, relayer));
    await relayer.client.waitFor(() => relayer.client.exts('refused').length > refusedBefore, 5000);
    const room = s.hub.rooms.get(doc)!;
    await until(() => vitals(room.doc).get('heartRate') === 88, 5000, 'the heart rate saved');
    expect(assessment(room.doc).toString()).toBe('');
    const reasons = relayer.client.exts('refused').slice(refusedBefore).flatMap((r) => (r.refusals as { reason: string }[]).map((x) => x.reason));
    expect(reasons.some((r) => r.includes('not reached the server yet'))).toBe(true);
    // Not all of it is on the server: not answered as saved, so the device keeps showing it unsaved.
    await new Promise((r) => setTimeout(r, 300));
    expect(relayer.client.savedCount()).toBe(savedBefore);
    // The first nurse's device returns; the server then asks the second nurse's device (a sync
    // step 1, which every y-websocket client answers with what the server lacks).
    const asksBefore = relayer.client.received.filter((r) => r.type === 0 && r.step === 0).length;
    await sendSaved(nurse, lost);
    await relayer.client.waitFor(() => relayer.client.received.filter((r) => r.type === 0 && r.step === 0).length > asksBefore, 5000);
    await sendSaved(relayer, reconnectState(s, doc, relayer));
    expect(assessment(room.doc).toString()).toBe('Alert, no distress. BP rechecked.');
    expect(vitals(room.doc).get('heartRate')).toBe(88);
    expect(room.doc.store.pendingStructs).toBeNull();
    expect(assessment(s.ctx.docs.load(doc).doc).toString()).toBe('Alert, no distress. BP rechecked.');
  });

  it('a stock y-websocket client holding such changes ends with all of them saved, without reconnecting', async () => {
    const { s, doc, visitId, nurse, vitals } = await setup('nurse2');
    const assessment = (d: Y.Doc) => sectionOf<Y.Text>(d, visitId, 'assessment')!;
    const lost = change(nurse, (d) => assessment(d).insert(0, 'Alert, no distress.'));
    // The second nurse's tablet: the record as the server has it, the lost note, and her own
    // additions on top, made offline; then it connects as any stock client does.
    const tablet = new Y.Doc();
    Y.applyUpdate(tablet, Y.encodeStateAsUpdate(s.hub.rooms.get(doc)!.doc));
    Y.applyUpdate(tablet, lost);
    vitals(tablet).set('heartRate', 91);
    assessment(tablet).insert(assessment(tablet).length, ' Pulse regular.');
    const stock = stockClient(s.url, doc, await login(s.url, 'nurse2', 'longenough'), {}, tablet);
    const room = s.hub.rooms.get(doc)!;
    await until(() => vitals(room.doc).get('heartRate') === 91, 5000, 'the heart rate saved');
    expect(assessment(room.doc).toString()).toBe('');
    let reconnects = 0;
    stock.provider.on('status', (e: { status: string }) => e.status === 'connecting' && reconnects++);
    await sendSaved(nurse, lost);
    await until(() => assessment(room.doc).toString() === 'Alert, no distress. Pulse regular.', 5000, 'the held text saved');
    expect(reconnects).toBe(0);
    expect(assessment(s.ctx.docs.load(doc).doc).toString()).toBe('Alert, no distress. Pulse regular.');
    stock.provider.destroy();
  });
});
