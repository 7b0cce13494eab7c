// Bad input closes that one connection with a reason; the server, and every other room, go on.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { docNameFor, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';

let srv: RunningServer;
let patients: { id: string; visitId: string }[];
let nurseToken: string;

beforeAll(async () => {
  srv = await testServer({ maxFrameBytes: 256 * 1024, rateLimitPerSec: 50, rateLimitBurst: 100 });
  nurseToken = await login(srv.url, 'nurse');
  patients = (await api<{ id: string; visitId: string }[]>(srv.url, nurseToken, 'GET', '/api/patients')).body;
});
afterAll(async () => {
  await srv.close();
});

/** A healthy nurse in another room keeps working while the attack runs. */
async function otherRoomStillWorks(value: number): Promise<void> {
  const p = patients[1]!;
  const c = stockClient(srv.url, docNameFor(p.id), nurseToken);
  await synced(c.provider);
  sectionOf(c.doc, p.visitId, 'vitals')!.set('heartRate', value);
  await until(() => sectionOf(srv.hub.rooms.get(docNameFor(p.id))!.doc, p.visitId, 'vitals')!.get('heartRate') === value, 5000, 'healthy edit lands');
  c.provider.destroy();
  expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
}

function updateMessage(payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 2);
  encoding.writeVarUint8Array(e, payload);
  return encoding.toUint8Array(e);
}

const attacks: [string, () => Uint8Array | string, number, RegExp][] = [
  ['random garbage bytes', () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), 4400, /Malformed/],
  ['an unknown message type', () => new Uint8Array([42, 1, 2, 3]), 4400, /unknown message type 42/],
  ['an unknown sync step', () => new Uint8Array([0, 9, 0]), 4400, /unknown sync step/],
  ['a text frame', () => 'hello', 4400, /binary/],
  ['a truncated update', () => {
    const d = new Y.Doc();
    d.getMap('visits').set('x', 'y');
    const u = Y.encodeStateAsUpdate(d);
    return updateMessage(u.subarray(0, u.length - 4));
  }, 4400, /Malformed/],
  ['an update claiming four billion structs', () => updateMessage(new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0x0f, 5, 0])), 4400, /Malformed/],
  ['deeply nested JSON in a value', () => {
    // Build [[[[0]]]] with Yjs, then deepen the array prefix (tag 117, length 1) by hand.
    const d = new Y.Doc();
    d.getMap('demographics').set('firstName', [[[0]]]);
    const u = Y.encodeStateAsUpdate(d);
    const at = u.findIndex((b, i) => b === 117 && u[i + 1] === 1 && u[i + 2] === 117);
    const deep = new Uint8Array(u.length + 2 * 100_000);
    deep.set(u.subarray(0, at));
    for (let i = 0; i < 100_000; i++) deep.set([117, 1], at + 2 * i);
    deep.set(u.subarray(at), at + 2 * 100_000);
    return updateMessage(deep);
  }, 4400, /Malformed|stack/],
  ['an extension message that is not JSON', () => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 100);
    encoding.writeVarString(e, '{nope');
    return encoding.toUint8Array(e);
  }, 4400, /Malformed/],
  ['a sync step 1 naming 20,000 editing sessions the record does not have', () => {
    const sv = encoding.createEncoder();
    encoding.writeVarUint(sv, 20_000);
    for (let i = 0; i < 20_000; i++) (encoding.writeVarUint(sv, 1_000_000 + i), encoding.writeVarUint(sv, 1));
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint8Array(e, encoding.toUint8Array(sv));
    return encoding.toUint8Array(e);
  }, 4400, /a state vector of 20000 editing sessions, where this record has \d+/],
  ['an extension message of 20 KB', () => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 100);
    encoding.writeVarString(e, JSON.stringify({ type: 'lock', path: 'x'.repeat(20 * 1024) }));
    return encoding.toUint8Array(e);
  }, 4400, /an extension message is at most 16 KB/],
  ['a frame over the size limit', () => new Uint8Array(300 * 1024), 1009, /^Message too large: 307200 bytes; the limit is 262144$/],
  // Past twice the limit ws stops at the frame header, before reading the payload.
  ['a frame far over the size limit', () => new Uint8Array(600 * 1024), 1009, /^$/],
];

describe('limits on input', () => {
  for (const [what, make, code, reason] of attacks) {
    it(`closes a connection that sends ${what}, with a reason, and other rooms go on`, async () => {
      const raw = new RawClient(srv.url, docNameFor(patients[0]!.id), nurseToken);
      await raw.opened;
      raw.ws.send(make());
      const closed = await raw.waitClosed();
      expect(closed.code).toBe(code);
      expect(closed.reason).toMatch(reason);
      await otherRoomStillWorks(60 + attacks.findIndex((a) => a[0] === what));
    });
  }

  it('closes a connection that floods messages past its rate limit', async () => {
    const raw = new RawClient(srv.url, docNameFor(patients[0]!.id), nurseToken);
    await raw.opened;
    const query = new Uint8Array([3]);
    for (let i = 0; i < 400 && raw.ws.readyState === raw.ws.OPEN; i++) raw.ws.send(query);
    const closed = await raw.waitClosed();
    expect(closed.code).toBe(4429);
    expect(closed.reason).toMatch(/Too many messages/);
    await otherRoomStillWorks(99);
  });

  it('closes a connection whose sync step 1 carries a state vector that breaks off, even while its edit is being stored', async () => {
    const p = patients[0]!;
    const raw = new RawClient(srv.url, docNameFor(p.id), nurseToken);
    await raw.opened;
    const local = new Y.Doc();
    Y.applyUpdate(local, Y.encodeStateAsUpdate(srv.hub.rooms.get(docNameFor(p.id))!.doc));
    const sv = Y.encodeStateVector(local);
    sectionOf(local, p.visitId, 'vitals')!.set('spo2', 97);
    const edit = updateMessage(Y.encodeStateAsUpdate(local, sv));
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    encoding.writeVarUint(e, 0); // sync step 1
    encoding.writeVarUint8Array(e, new Uint8Array([2, 5])); // two clients, then one client id and no clock
    // One socket write: the step 1 is read while the edit's commit is still to come, so its answer waits.
    const socket = (raw.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    raw.ws.send(edit);
    raw.ws.send(encoding.toUint8Array(e));
    socket.uncork();
    const closed = await raw.waitClosed();
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/Malformed message: Unexpected end of array/);
    await otherRoomStillWorks(98);
  });

  it('refuses upgrades to paths that are not patient records', async () => {
    const res = await fetch(`${srv.url}/sync/not-a-record?token=${nurseToken}`, { headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } }).catch((e: Error) => e);
    expect(res instanceof Error ? res.message : res.status).not.toBe(101);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });
});

describe('pathological updates', () => {
  it('refuses an update from hundreds of fake editing sessions all typing at one spot (quadratic for Yjs)', async () => {
    const p = patients[0]!;
    const raw = new RawClient(srv.url, docNameFor(p.id), nurseToken);
    await raw.opened;
    const base = await raw.fetchDoc();
    const sv = Y.encodeStateVector(base);
    const updates: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const d = new Y.Doc();
      Y.applyUpdate(d, Y.encodeStateAsUpdate(base));
      sectionOf<Y.Text>(d, p.visitId, 'assessment')!.insert(0, 'x');
      updates.push(Y.encodeStateAsUpdate(d, sv));
    }
    raw.sendUpdate(Y.mergeUpdates(updates));
    expect((await raw.waitFor((r) => r.type === 2)).reason).toMatch(/more than 64 new editing sessions/);
    expect(sectionOf<Y.Text>(srv.hub.rooms.get(docNameFor(p.id))!.doc, p.visitId, 'assessment')!.toString()).not.toContain('xxx');
    raw.close();
    await otherRoomStillWorks(101);
  });
});
