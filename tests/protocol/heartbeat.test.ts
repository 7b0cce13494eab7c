// A tablet that leaves the network without closing its connection (out of Wi-Fi range, battery out)
// must not stay on the record: shown as present, holding its field lock, keeping the record open.
// The server pings every connection each heartbeat and drops one it heard nothing from for two beats
// running; a quiet tablet that is still there answers the pings by itself and stays.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docNameFor, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { connectStock, login, registerTestPatient, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { encodeAwarenessUpdate } from '../../apps/sync-server/src/sync/presence.js';
import { SILENT_BEATS } from '../../apps/sync-server/src/sync/hub.js';

const BEAT_MS = 200;
let srv: RunningServer;
let patientId: string;
let visitId: string;
const doc = (): string => docNameFor(patientId);

beforeAll(async () => {
  srv = await testServer({ heartbeatMs: BEAT_MS });
  ({ id: patientId, visitId } = await registerTestPatient(srv.url, { firstName: 'Heart', lastName: 'Beat', sex: 'male', dateOfBirth: '1980-02-02' }));
});
afterAll(async () => {
  await srv.close();
});

const connectionsOf = (username: string): number => srv.hub.connections().filter((c) => c.actor.username === username).length;

describe('heartbeat', () => {
  it('a tablet gone silent is dropped: its presence and its field lock go, and the record can close', async () => {
    const colleague = await connectStock(srv.url, doc(), 'clinician');
    // The nurse's tablet: connected, on the record, holding the triage category's lock, then silent
    // (its socket stays open, but it answers no ping).
    const tablet = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'), true, { autoPong: false });
    await tablet.opened;
    const TABLET_ID = 91_000_001;
    tablet.sendAwareness(encodeAwarenessUpdate([{ clientId: TABLET_ID, clock: 1, state: { section: 'triage', field: 'category', activity: 'editing' } }]));
    const path = `visits/${visitId}/triage/category`;
    tablet.sendExt({ type: 'lock', path });
    await tablet.waitFor((r) => r.ext?.type === 'lock-result' && r.ext.ok === true);
    await until(() => colleague.provider.awareness.getStates().has(TABLET_ID), 5000, 'the colleague to see the nurse');
    expect((colleague.provider.awareness.getStates().get(TABLET_ID) as { user: { name: string } }).user.name).toBe('Sarah Achieng');
    expect(srv.hub.rooms.get(doc())!.lockList().map((l) => l.path)).toEqual([path]);

    const t0 = Date.now();
    await until(() => connectionsOf('nurse') === 0, 10 * BEAT_MS, 'the silent tablet dropped');
    // Two to three beats after the last thing it sent (SILENT_BEATS), plus a beat of slack.
    expect(Date.now() - t0).toBeLessThan((SILENT_BEATS + 2) * BEAT_MS);
    expect(Date.now() - t0).toBeGreaterThanOrEqual((SILENT_BEATS - 1) * BEAT_MS);
    await until(() => !colleague.provider.awareness.getStates().has(TABLET_ID), 2000, 'the nurse gone from the colleague\'s view');
    expect(srv.hub.rooms.get(doc())!.lockList()).toEqual([]);
    await tablet.waitClosed(2000);
    expect(tablet.closed!.code).toBe(1006); // the server cut the socket: no closing handshake with nobody there

    // With the colleague gone too, the record unloads.
    colleague.provider.destroy();
    await until(() => !srv.hub.rooms.has(doc()), 5000, 'the record to unload');
  });

  it('a tablet silent through one beat but heard before the next is kept (a large record still coming in over a slow link)', async () => {
    const tablet = new RawClient(srv.url, doc(), await login(srv.url, 'nurse'), true, { autoPong: false });
    await tablet.opened;
    // Something every one and a half beats, never a pong: some beats pass with nothing heard, never two in a row.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1.5 * BEAT_MS));
      expect(tablet.closed).toBeNull();
      tablet.sendRaw(new Uint8Array([3])); // asks for everyone's presence
    }
    expect(connectionsOf('nurse')).toBe(1);
    tablet.close();
    await until(() => connectionsOf('nurse') === 0, 2000, 'closed');
  });

  it('a quiet tablet that is still there stays connected through many beats and goes on syncing', async () => {
    const nurse = await connectStock(srv.url, doc(), 'nurse');
    const clinician = await connectStock(srv.url, doc(), 'clinician');
    let reconnects = 0;
    nurse.provider.on('status', (e: { status: string }) => e.status === 'connecting' && reconnects++);
    await new Promise((r) => setTimeout(r, 8 * BEAT_MS));
    expect(nurse.provider.wsconnected).toBe(true);
    expect(reconnects).toBe(0);
    expect(connectionsOf('nurse')).toBe(1);
    sectionOf(nurse.doc, visitId, 'triage')!.set('chiefComplaint', 'headache since morning');
    await until(() => sectionOf(clinician.doc, visitId, 'triage')!.get('chiefComplaint') === 'headache since morning', 5000, 'the edit to reach the clinician');
    nurse.provider.destroy();
    clinician.provider.destroy();
  });
});
