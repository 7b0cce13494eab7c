// Field locks and presence cannot be turned against colleagues: a lock only on a field one may write,
// of a visit the record has; a colleague's lock stays theirs; presence for made-up sessions is not
// kept; sessions that only announced themselves are forgotten once the record closes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docNameFor, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { connectStock, login, registerTestPatient, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { encodeAwarenessUpdate, type PresenceEntry } from '../../apps/sync-server/src/sync/presence.js';

let srv: RunningServer;
let patientId: string;
let visitId: string;
const doc = (): string => docNameFor(patientId);
const tok: Record<string, string> = {};

beforeAll(async () => {
  srv = await testServer();
  await srv.ctx.users.create({ username: 'nurse2', name: 'Mary Wambui', role: 'NURSE', password: 'demo' });
  for (const u of ['nurse', 'nurse2', 'clinician', 'cashier']) tok[u] = await login(srv.url, u);
  ({ id: patientId, visitId } = await registerTestPatient(srv.url, { firstName: 'Lock', lastName: 'Holder', sex: 'female', dateOfBirth: '1970-01-01' }));
});
afterAll(async () => {
  await srv.close();
});

/** An awareness update: entries [clientId, clock, state]. */
const awarenessPayload = (entries: [number, number, unknown][]): Uint8Array =>
  encodeAwarenessUpdate(entries.map(([clientId, clock, state]) => ({ clientId, clock, state: state as PresenceEntry['state'] })));

const lockResult = async (c: RawClient, path: string): Promise<Record<string, unknown>> => {
  const from = c.received.length;
  c.sendExt({ type: 'lock', path });
  return (await c.waitFor((r) => r.ext?.type === 'lock-result' && r.ext.path === path, 5000, from)).ext!;
};

describe('field locks', () => {
  it('a cashier cannot lock the diagnoses, so the clinician\'s diagnosis is kept', async () => {
    const cashier = new RawClient(srv.url, doc(), tok.cashier!);
    await cashier.opened;
    const r = await lockResult(cashier, `visits/${visitId}/diagnoses`);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/Cashiers cannot change the diagnoses/) });
    const clin = await connectStock(srv.url, doc(), 'clinician');
    sectionOf(clin.doc, visitId, 'diagnoses')!.set('dx1', { code: 'J18.9' });
    await until(() => sectionOf(srv.hub.rooms.get(doc())!.doc, visitId, 'diagnoses')!.has('dx1'), 5000, 'the diagnosis kept');
    cashier.close();
    clin.provider.destroy();
  });

  it('locks on visits the record does not have are refused: 1,500 of them grow nothing and reach nobody', async () => {
    const attacker = new RawClient(srv.url, doc(), tok.nurse!);
    const observer = new RawClient(srv.url, doc(), tok.clinician!);
    await Promise.all([attacker.opened, observer.opened]);
    let observerBytes = 0;
    observer.ws.on('message', (d: Buffer) => (observerBytes += d.length));
    for (let i = 0; i < 1500; i++) attacker.sendExt({ type: 'lock', path: `visits/made-up-${i}/triage/category` });
    await attacker.waitFor((r) => r.ext?.type === 'lock-result' && r.ext.path === 'visits/made-up-1499/triage/category', 30_000);
    const results = attacker.exts('lock-result');
    expect(results).toHaveLength(1500);
    expect(results.every((r) => r.ok === false && r.reason === 'This record has no such visit')).toBe(true);
    expect(srv.hub.rooms.get(doc())!.locks.size).toBe(0);
    expect(observerBytes).toBe(0);
    attacker.close();
    observer.close();
  });

  it('taking and giving back a lock in a loop is cut off: each time, the whole list goes to everyone', async () => {
    const flapper = new RawClient(srv.url, doc(), tok.cashier!);
    const observers = await Promise.all(['nurse', 'nurse2', 'clinician'].map(async (u) => {
      const c = new RawClient(srv.url, doc(), tok[u]!);
      await c.opened;
      return c;
    }));
    await flapper.opened;
    let observed = 0;
    observers[0]!.ws.on('message', (d: Buffer) => (observed += d.length));
    const billing = `visits/${visitId}/billing`;
    for (const f of ['paymentStatus', 'amountPaid', 'amountDue']) expect(await lockResult(flapper, `${billing}/${f}`)).toMatchObject({ ok: true });
    const path = `visits/${visitId}/payments`;
    for (let i = 0; i < 900 && flapper.ws.readyState === flapper.ws.OPEN; i++) {
      flapper.sendExt({ type: 'lock', path });
      flapper.sendExt({ type: 'unlock', path });
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
    }
    expect(await flapper.waitClosed(10_000)).toEqual({ code: 4429, reason: 'Too many lock requests; slow down' });
    expect(observed).toBeLessThan(1_000_000);
    await until(() => (srv.hub.rooms.get(doc())?.locks.size ?? 0) === 0, 5000, 'its locks released');
    for (const o of observers) o.close();
  });

  it('a colleague\'s lock cannot be undone by someone else, who is told so', async () => {
    const holder = new RawClient(srv.url, doc(), tok.nurse!);
    const other = new RawClient(srv.url, doc(), tok.nurse2!);
    await Promise.all([holder.opened, other.opened]);
    const path = `visits/${visitId}/triage/category`;
    expect(await lockResult(holder, path)).toMatchObject({ ok: true });
    const from = other.received.length;
    other.sendExt({ type: 'unlock', path });
    const answer = (await other.waitFor((r) => r.ext?.type === 'error', 5000, from)).ext!;
    expect(answer.message).toBe(`You hold no lock on ${path}`);
    expect(srv.hub.rooms.get(doc())!.lockList().map((l) => [l.path, l.name])).toEqual([[path, 'Sarah Achieng']]);
    holder.close();
    other.close();
    await until(() => (srv.hub.rooms.get(doc())?.locks.size ?? 0) === 0, 5000, 'released with its connection');
  });

  it('a second tab asking for the same lock and closing does not take it from the first', async () => {
    const tab1 = new RawClient(srv.url, doc(), tok.nurse!);
    const tab2 = new RawClient(srv.url, doc(), tok.nurse!);
    await Promise.all([tab1.opened, tab2.opened]);
    const path = `visits/${visitId}/triage/category`;
    expect(await lockResult(tab1, path)).toMatchObject({ ok: true });
    expect(await lockResult(tab2, path)).toMatchObject({ ok: true });
    tab2.close();
    await tab2.waitClosed();
    await new Promise((r) => setTimeout(r, 200));
    expect(srv.hub.rooms.get(doc())!.lockList().map((l) => l.path)).toEqual([path]);
    tab1.close();
    await until(() => (srv.hub.rooms.get(doc())?.locks.size ?? 0) === 0, 5000, 'released with the last tab');
  });
});

describe('presence', () => {
  it('departures of sessions nobody has seen are dropped: 20,000 of them keep nothing', async () => {
    const c = new RawClient(srv.url, doc(), tok.cashier!);
    await c.opened;
    const room = srv.hub.rooms.get(doc())!;
    const before = room.awareness.meta.size;
    let id = 10_000_000;
    for (let m = 0; m < 20; m++) c.sendAwareness(awarenessPayload(Array.from({ length: 1000 }, () => [id++, 5, null] as [number, number, unknown])));
    // A message after them, answered, so all of them have been handled.
    const from = c.received.length;
    c.sendExt({ type: 'unlock', path: 'x' });
    await c.waitFor((r) => r.ext?.type === 'error', 5000, from);
    expect(room.awareness.meta.size).toBe(before);
    expect(c.closed).toBeNull();
    c.close();
  });

  it('a flood of large presence updates is cut off at its budget; presence as people send it is not', async () => {
    const attacker = new RawClient(srv.url, doc(), tok.cashier!);
    const person = new RawClient(srv.url, doc(), tok.nurse!);
    const observer = new RawClient(srv.url, doc(), tok.clinician!);
    await Promise.all([attacker.opened, person.opened, observer.opened]);
    let observed = 0;
    observer.ws.on('message', (d: Buffer) => (observed += d.length));
    const big = 'c'.repeat(1980);
    for (let m = 1; m <= 1500 && attacker.ws.readyState === attacker.ws.OPEN; m++) {
      attacker.sendAwareness(awarenessPayload(Array.from({ length: 8 }, (_, i) => [66_000_000 + i, m, { cursor: big, selection: big }] as [number, number, unknown])));
    }
    const closed = await attacker.waitClosed(10_000);
    expect(closed).toEqual({ code: 4429, reason: 'Too much presence data; slow down' });
    // A person moving about the record: a small update ten times a second for two seconds.
    for (let m = 1; m <= 20; m++) {
      person.sendAwareness(awarenessPayload([[77_000_001, m, { section: 'triage', field: 'chiefComplaint', activity: 'typing' }]]));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(person.closed).toBeNull();
    // What reached the observer is bounded by the budget (what was relayed before the cut), not the flood.
    expect(observed).toBeLessThan(2_000_000);
    person.close();
    observer.close();
  });

  it('tiny presence entries, relayed stamped and many times larger, from ten connections of one person, are cut off', async () => {
    const observers = await Promise.all(['nurse', 'clinician', 'nurse2'].map(async (u) => {
      const c = new RawClient(srv.url, doc(), tok[u]!);
      await c.opened;
      return c;
    }));
    let observed = 0;
    observers[0]!.ws.on('message', (d: Buffer) => (observed += d.length));
    const tabs = await Promise.all(Array.from({ length: 10 }, async () => {
      const c = new RawClient(srv.url, doc(), tok.cashier!);
      await c.opened;
      return c;
    }));
    let sent = 0;
    const tiny = (ids: number[], clock: number): Uint8Array => awarenessPayload(ids.map((id) => [id, clock, {}] as [number, number, unknown]));
    for (let m = 1; m <= 400 && tabs.every((t) => t.closed === null); m++) {
      tabs.forEach((t, i) => {
        const msg = tiny(Array.from({ length: 8 }, (_, k) => 88_000_000 + i * 8 + k), m);
        sent += msg.length;
        t.sendAwareness(msg);
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => tabs.some((t) => t.closed !== null), 10_000, 'a connection closed');
    expect(tabs.find((t) => t.closed !== null)!.closed).toEqual({ code: 4429, reason: 'Too much presence data; slow down' });
    // Well under what the connections' own byte budgets (256 KB each) would have let through.
    expect(sent).toBeLessThan(10 * 256 * 1024);
    expect(observed).toBeLessThan(1_500_000);
    for (const c of [...tabs, ...observers]) c.close();
  });

  it('one login on 200 devices can all join one record: each announcing itself is part of connecting', async () => {
    const p = await registerTestPatient(srv.url, { firstName: 'Shared', lastName: 'Login', sex: 'female', dateOfBirth: '1990-05-05' });
    const devices: RawClient[] = [];
    for (let i = 0; i < 200; i++) {
      const c = new RawClient(srv.url, docNameFor(p.id), tok.nurse2!);
      await c.opened;
      // What the web app announces, for a Yjs client id of its own.
      c.sendAwareness(awarenessPayload([[77_000_000 + i, 1, { activity: 'viewing', user: { name: 'Mary Wambui', color: '#2f855a' } }]]));
      devices.push(c);
    }
    const room = srv.hub.rooms.get(docNameFor(p.id))!;
    await until(() => room.awareness.getStates().size === 200 || devices.some((d) => d.closed !== null), 20_000, 'every device announced');
    expect(devices.filter((d) => d.closed !== null).map((d) => d.closed)).toEqual([]);
    expect(room.awareness.getStates().size).toBe(200);
    for (const c of devices) c.close();
  });

  it('sessions that only announced themselves are forgotten when the record closes; those that wrote are kept', async () => {
    const p = await registerTestPatient(srv.url, { firstName: 'Only', lastName: 'Looking', sex: 'male', dateOfBirth: '1981-01-01' });
    const name = docNameFor(p.id);
    const owners = (): number => {
      srv.ctx.queue.flush();
      return (srv.ctx.db.prepare('SELECT count(*) AS n FROM client_owners WHERE doc = ?').get(name) as { n: number }).n;
    };
    const writer = await connectStock(srv.url, name, 'nurse');
    sectionOf(writer.doc, p.visitId, 'vitals')!.set('heartRate', 80);
    await until(() => sectionOf(srv.hub.rooms.get(name)!.doc, p.visitId, 'vitals')!.get('heartRate') === 80, 5000, 'the nurse\'s edit');
    let id = 50_000_000;
    for (let k = 0; k < 5; k++) {
      const c = new RawClient(srv.url, name, tok.cashier!);
      await c.opened;
      c.sendAwareness(awarenessPayload(Array.from({ length: 8 }, () => [id++, 1, { activity: 'viewing' }] as [number, number, unknown])));
      await new Promise((r) => setTimeout(r, 50));
      c.close();
      await c.waitClosed();
    }
    expect(owners()).toBeGreaterThanOrEqual(40);
    writer.provider.destroy();
    await until(() => !srv.hub.rooms.has(name), 5000, 'the record closed');
    srv.ctx.queue.flush();
    const left = (srv.ctx.db.prepare('SELECT client_id FROM client_owners WHERE doc = ?').all(name) as { client_id: number }[]).map((r) => r.client_id);
    expect(left).toContain(writer.doc.clientID);
    expect(left.some((x) => x >= 50_000_000 && x < 50_000_040)).toBe(false);
    // The record still opens and the nurse's session is still hers.
    expect(srv.ctx.docs.load(name).owners.get(writer.doc.clientID)).toBe(srv.ctx.users.byUsername('nurse')!.id);
  });
});
