// Limits the gate keeps so that one person cannot move a visit outside its steps, take the record
// down for everyone, or make it grow without bound: the visit's status, conflict picks, how deep a
// record nests, how big text and notes may be, what a refused deletion may cost, and the server's own
// editing session.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { MAX_TEXT_LENGTH, conflictsOf, docNameFor, sectionOf, type Conflict } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { MAX_NESTING } from '../../apps/sync-server/src/gate/nesting.js';
import { MAX_ITEMS_PER_UPDATE } from '../../apps/sync-server/src/gate/gate.js';
import { CUT_OFF_REASON, ITEMS_OVER_REASON, RESTORED_BURST } from '../../apps/sync-server/src/sync/room.js';
import { api, connectStock, login, registerTestPatient, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';

let srv: RunningServer;

beforeAll(async () => {
  srv = await testServer();
});
afterAll(async () => {
  await srv.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freshPatient(tag: string): Promise<{ name: string; visitId: string; id: string }> {
  const p = await registerTestPatient(srv.url, { firstName: 'Limit', lastName: tag, sex: 'female', dateOfBirth: '1990-01-01' });
  return { name: docNameFor(p.id), visitId: p.visitId, id: p.id };
}
const room = (name: string): ReturnType<typeof srv.hub.open> => srv.hub.rooms.get(name)!;
const status = (d: Y.Doc, v: string): unknown => sectionOf(d, v, 'workflow')!.get('status');
const stored = (name: string): Y.Doc => {
  srv.ctx.queue.flush();
  return srv.ctx.docs.load(name).doc;
};

/** What the server holds, as a client with id `client` would start from it. */
function copyOf(name: string, client: number): Y.Doc {
  const d = new Y.Doc();
  Y.applyUpdate(d, Y.encodeStateAsUpdate(room(name).doc));
  d.clientID = client;
  return d;
}

/** `depth` elements, each inside the one before, under `parent`, in one transaction. */
function nestElements(doc: Y.Doc, parent: Y.XmlFragment | Y.XmlElement, depth: number): Y.XmlElement {
  let el!: Y.XmlElement;
  doc.transact(() => {
    let at: Y.XmlFragment | Y.XmlElement = parent;
    for (let i = 0; i < depth; i++) {
      el = new Y.XmlElement('blockquote');
      at.insert(0, [el]);
      at = el;
    }
  });
  return el;
}

/** Elements below the notes section: the notes are at level 2 (visit, then section). */
const NOTES_LEVEL = 2;

describe('the visit status', () => {
  it('removing the status outright is refused and put back; moving it a step on still works', async () => {
    const p = await freshPatient('StatusDelete');
    const cashier = await connectStock(srv.url, p.name, 'cashier');
    const initial = status(cashier.doc, p.visitId);
    expect(initial).toBe('TRIAGE');
    sectionOf(cashier.doc, p.visitId, 'workflow')!.delete('status');
    await until(() => status(cashier.doc, p.visitId) === initial, 5000, 'the status put back on the cashier\'s tablet');
    expect(status(room(p.name).doc, p.visitId)).toBe(initial);
    expect(status(stored(p.name), p.visitId)).toBe(initial);
    cashier.provider.destroy();
    const nurse = await connectStock(srv.url, p.name, 'nurse');
    sectionOf(nurse.doc, p.visitId, 'workflow')!.set('status', 'CONSULTATION');
    await until(() => status(stored(p.name), p.visitId) === 'CONSULTATION', 5000, 'a step on');
    nurse.provider.destroy();
  });

  it('a conflict over the status is settled only with a value in conflict, by a role that may make that move', async () => {
    const p = await freshPatient('ConflictPick');
    // The nurse goes offline having seen REGISTERED, reception moves the visit to TRIAGE, and the
    // offline nurse moves it on to CONSULTATION without having seen TRIAGE.
    const nurse = await connectStock(srv.url, p.name, 'nurse');
    nurse.provider.disconnect();
    const reception = await connectStock(srv.url, p.name, 'reception');
    sectionOf(reception.doc, p.visitId, 'workflow')!.set('status', 'TRIAGE');
    await until(() => status(room(p.name).doc, p.visitId) === 'TRIAGE', 5000, 'triage');
    sectionOf(nurse.doc, p.visitId, 'workflow')!.set('status', 'CONSULTATION');
    nurse.provider.connect();
    await until(() => conflictsOf(room(p.name).doc).size === 1, 5000, 'conflict recorded');
    const [conflict] = [...conflictsOf(room(p.name).doc).values()] as Conflict[];
    expect(conflict!.path).toBe(`visits/${p.visitId}/workflow/status`);
    const current = status(room(p.name).doc, p.visitId);
    const other = conflict!.values.map((v) => v.value).find((v) => v !== current);
    const resolve = async (who: string, value: unknown): Promise<{ status: number; body: { error?: string } }> =>
      api(srv.url, await login(srv.url, who), 'POST', `/api/patients/${p.id}/conflicts/${conflict!.id}/resolve`, { value });

    const skip = await resolve('cashier', 'COMPLETED');
    expect(skip.status).toBe(400);
    expect(skip.body.error).toMatch(/one of the values in conflict/);
    const move = await resolve('cashier', other);
    expect(move.status).toBe(403);
    expect(move.body.error).toMatch(/A cashier cannot move a visit from/);
    expect(status(room(p.name).doc, p.visitId)).toBe(current);
    // Keeping the value it has is no move at all.
    expect((await resolve('cashier', current)).status).toBe(200);
    expect(status(stored(p.name), p.visitId)).toBe(current);
    nurse.provider.destroy();
    reception.provider.destroy();
  });
});

describe('how deep a record nests', () => {
  it(`notes nested up to ${MAX_NESTING} levels are kept; one level more is refused, whether sent at once or level by level`, async () => {
    const p = await freshPatient('DeepNotes');
    const clin = await connectStock(srv.url, p.name, 'clinician');
    const notes = sectionOf<Y.XmlFragment>(clin.doc, p.visitId, 'notes')!;
    // All the allowed levels in one update, then one more level in an update of its own.
    const deepest = nestElements(clin.doc, notes, MAX_NESTING - NOTES_LEVEL);
    await until(() => sectionOf<Y.XmlFragment>(stored(p.name), p.visitId, 'notes')!.length === 1, 5000, 'the deep notes saved');
    nestElements(clin.doc, deepest, 1);
    await sleep(300);
    const onServer = sectionOf<Y.XmlFragment>(room(p.name).doc, p.visitId, 'notes')!;
    let levels = 0;
    for (let el = onServer.get(0) as Y.XmlElement | undefined; el; el = el.get(0) as Y.XmlElement | undefined) levels++;
    expect(levels).toBe(MAX_NESTING - NOTES_LEVEL);
    clin.provider.destroy();
    // Too deep in one update, from a fresh session.
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'clinician'));
    await raw.opened;
    const local = copyOf(p.name, 0x5eed1);
    const sv = Y.encodeStateVector(local);
    nestElements(local, sectionOf<Y.XmlFragment>(local, p.visitId, 'notes')!, MAX_NESTING - NOTES_LEVEL + 1);
    raw.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    await raw.waitFor((r) => r.type === 2, 5000);
    expect(raw.refusals().join()).toMatch(`more than ${MAX_NESTING} levels deep`);
    expect(sectionOf<Y.XmlFragment>(stored(p.name), p.visitId, 'notes')!.length).toBe(1);
    raw.close();
  });

  it('a lab technician\'s 3,500 nested maps are refused before they touch the record: nobody else is disconnected', async () => {
    const p = await freshPatient('DeepMaps');
    const nurse = await connectStock(srv.url, p.name, 'nurse');
    const closes: number[] = [];
    nurse.provider.on('connection-close', (ev: { code: number } | null) => void closes.push(ev?.code ?? 0));
    const before = room(p.name);
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'lab'));
    await raw.opened;
    const local = copyOf(p.name, 0x7e600);
    const sv = Y.encodeStateVector(local);
    local.transact(() => {
      let m = new Y.Map<unknown>();
      sectionOf(local, p.visitId, 'labResults')!.set('ord1', m);
      for (let i = 0; i < 3500; i++) {
        const n = new Y.Map<unknown>();
        m.set('k', n);
        m = n;
      }
    });
    const update = Y.encodeStateAsUpdate(local, sv);
    expect(update.length).toBeLessThan(64 * 1024);
    raw.sendUpdate(update);
    await raw.waitFor((r) => r.type === 2, 5000);
    expect(raw.refusals().join()).toMatch('levels deep');
    // The room goes on with the same copy of the record, and its people stay on it.
    sectionOf(nurse.doc, p.visitId, 'vitals')!.set('heartRate', 77);
    await until(() => sectionOf(stored(p.name), p.visitId, 'vitals')!.get('heartRate') === 77, 5000, 'the nurse\'s edit saved');
    expect(room(p.name)).toBe(before);
    expect(before.broken).toBeNull();
    expect(closes).toEqual([]);
    expect(raw.closed).toBeNull();
    expect(sectionOf(stored(p.name), p.visitId, 'labResults')!.has('ord1')).toBe(false);
    raw.close();
    nurse.provider.destroy();
  });
});

/**
 * Sends one change made on a fresh copy of the record and waits until the server has answered it
 * (`saved` covers refused updates too); returns the refusals it brought.
 */
async function sendChange(raw: RawClient, change: (d: Y.Doc) => void): Promise<string[]> {
  const local = await raw.fetchDoc();
  const sv = Y.encodeStateVector(local);
  change(local);
  const saved = raw.savedCount();
  const refused = raw.refusals().length;
  raw.sendUpdate(Y.encodeStateAsUpdate(local, sv));
  await until(() => raw.savedCount() > saved, 10_000, 'the change answered');
  return raw.refusals().slice(refused);
}

describe('how big text and notes may be', () => {
  const big = 'x'.repeat(2_000_000);
  const TEXT_LIMIT = `Text is limited to ${MAX_TEXT_LENGTH} characters, formatting included`;
  const NOTES_LIMIT = `Notes are limited to ${MAX_TEXT_LENGTH} characters, formatting and attributes included`;

  it(`the assessment holds ${MAX_TEXT_LENGTH.toLocaleString('en')} characters, formatting counted: a 2 MB formatting attribute is refused`, async () => {
    const p = await freshPatient('TextSize');
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'nurse'));
    await raw.opened;
    const assessment = (d: Y.Doc): Y.Text => sectionOf<Y.Text>(d, p.visitId, 'assessment')!;
    const storedText = (): Y.Text => assessment(stored(p.name));
    // A few characters carrying a 2 MB attribute, as typed and as formatting laid over saved text.
    expect(await sendChange(raw, (d) => assessment(d).insert(0, 'Alert', { comment: big }))).toEqual([TEXT_LIMIT]);
    expect(storedText().length).toBe(0);
    expect(await sendChange(raw, (d) => assessment(d).insert(0, 'Alert and oriented'))).toEqual([]);
    expect(await sendChange(raw, (d) => assessment(d).format(0, 5, { comment: big }))).toEqual([TEXT_LIMIT]);
    expect(storedText().toDelta()).toEqual([{ insert: 'Alert and oriented' }]);
    // Up to the limit exactly, formatting included; then one character more is refused.
    const bold = JSON.stringify(true).length + 'bold'.length * 2; // where bold starts ({bold: true}) and ends ({bold: null})
    const room = MAX_TEXT_LENGTH - 'Alert and oriented'.length - bold;
    expect(await sendChange(raw, (d) => assessment(d).insert(18, 'a'.repeat(room), { bold: true }))).toEqual([]);
    expect(storedText().length).toBe(MAX_TEXT_LENGTH - bold);
    expect(await sendChange(raw, (d) => assessment(d).insert(0, 'b'))).toEqual([TEXT_LIMIT]);
    expect(storedText().length).toBe(MAX_TEXT_LENGTH - bold);
    raw.close();
  });

  it(`notes hold ${MAX_TEXT_LENGTH.toLocaleString('en')} characters, element names, attributes and formatting counted`, async () => {
    const p = await freshPatient('NotesSize');
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'clinician'));
    await raw.opened;
    const notes = (d: Y.Doc): Y.XmlFragment => sectionOf<Y.XmlFragment>(d, p.visitId, 'notes')!;
    const paragraph = (text: string, attrs?: Record<string, unknown>): Y.XmlElement => {
      const el = new Y.XmlElement('paragraph');
      const t = new Y.XmlText();
      if (attrs) t.insert(0, text, attrs);
      else t.insert(0, text);
      el.insert(0, [t]);
      return el;
    };
    // 2 million characters of text; a 2 MB attribute; a 2 MB element name; 2 MB of formatting.
    expect(await sendChange(raw, (d) => notes(d).insert(0, [paragraph(big)]))).toEqual([NOTES_LIMIT]);
    expect(await sendChange(raw, (d) => {
      const el = paragraph('Chest pain');
      el.setAttribute('data-note', big);
      notes(d).insert(0, [el]);
    })).toEqual([NOTES_LIMIT]);
    expect(await sendChange(raw, (d) => notes(d).insert(0, [new Y.XmlElement(big)]))).toEqual([NOTES_LIMIT]);
    expect(await sendChange(raw, (d) => notes(d).insert(0, [paragraph('Chest pain', { link: { href: big } })]))).toEqual([NOTES_LIMIT]);
    expect(notes(stored(p.name)).length).toBe(0);
    // Exactly the limit: the paragraph's name and its text. One character more is refused.
    const limit = MAX_TEXT_LENGTH - 'paragraph'.length;
    expect(await sendChange(raw, (d) => notes(d).insert(0, [paragraph('n'.repeat(limit))]))).toEqual([]);
    expect(notes(stored(p.name)).toString()).toBe(`<paragraph>${'n'.repeat(limit)}</paragraph>`);
    expect(await sendChange(raw, (d) => ((notes(d).get(0) as Y.XmlElement).get(0) as Y.XmlText).insert(0, 'm'))).toEqual([NOTES_LIMIT]);
    expect(notes(stored(p.name)).toString()).toBe(`<paragraph>${'n'.repeat(limit)}</paragraph>`);
    raw.close();
  });
});

/** A delete-only update: `ranges` single-clock deletions of `client`, every `step`-th clock from `from`. */
function sparseDelete(client: number, from: number, ranges: number, step = 2): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0); // no structs
  encoding.writeVarUint(e, 1); // one client in the delete set
  encoding.writeVarUint(e, client);
  encoding.writeVarUint(e, ranges);
  for (let i = 0; i < ranges; i++) {
    encoding.writeVarUint(e, from + i * step);
    encoding.writeVarUint(e, 1);
  }
  return encoding.toUint8Array(e);
}

/** A nurse's 20,000-character assessment of one letter, saved: the text the refused deletions aim at. */
async function longAssessment(tag: string, letter: string) {
  const p = await freshPatient(tag);
  const nurse = await connectStock(srv.url, p.name, 'nurse');
  const text = sectionOf<Y.Text>(nurse.doc, p.visitId, 'assessment')!;
  const clock0 = Y.getState(nurse.doc.store, nurse.doc.clientID);
  text.insert(0, letter.repeat(20_000));
  await until(() => sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.length === 20_000, 10_000, 'the long text saved');
  return { p, nurse, text, clock0 };
}

describe('what a refused deletion may cost', () => {
  it('deleting every other character of a text the sender may not edit is refused whole: the record does not grow', async () => {
    const { p, nurse, text, clock0 } = await longAssessment('Sparse', 'a');
    const bytesBefore = Y.encodeStateAsUpdate(room(p.name).doc).length;
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'lab'));
    await raw.opened;
    raw.sendUpdate(sparseDelete(nurse.doc.clientID, clock0, 9_000));
    await raw.waitFor((r) => r.type === 2, 10_000);
    expect(raw.refusals().join()).toMatch('deletes more than 1000 pieces of parts of the record a lab technician may not change');
    expect(Y.encodeStateAsUpdate(room(p.name).doc).length).toBe(bytesBefore);
    expect(sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.toString()).toBe('a'.repeat(20_000));
    // A few pieces refused are still put back one by one, as always.
    raw.sendUpdate(sparseDelete(nurse.doc.clientID, clock0, 10));
    await until(() => raw.refusals().length >= 2, 5000, 'the small refusal');
    expect(sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.toString()).toBe('a'.repeat(20_000));
    raw.close();
    // The nurse may delete as many pieces of her own text as she likes.
    nurse.doc.transact(() => {
      for (let i = 9_999; i >= 0; i--) text.delete(i * 2, 1);
    });
    await until(() => sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.length === 10_000, 10_000, 'her deletion saved');
    nurse.provider.destroy();
  });
});

describe('what an update holds counts in full', () => {
  it('deleting a visit, one piece in the message, counts everything inside it: refused whole, unapplied', async () => {
    const p = await freshPatient('Subtree');
    const nurse = await connectStock(srv.url, p.name, 'nurse');
    const text = sectionOf<Y.Text>(nurse.doc, p.visitId, 'assessment')!;
    // 5,000 separate pieces (each typed before the one before cannot merge with it).
    nurse.doc.transact(() => {
      for (let i = 0; i < 5000; i++) text.insert(0, 'x');
    });
    await until(() => sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.length === 5000, 15_000, 'the text saved');
    const bytes = Y.encodeStateAsUpdate(room(p.name).doc).length;
    const visit = (room(p.name).doc.getMap('visits') as Y.Map<unknown>)._map.get(p.visitId)!;
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'cashier'));
    await raw.opened;
    raw.sendUpdate(sparseDelete(visit.id.client, visit.id.clock, 1));
    await raw.waitFor((r) => r.type === 2, 10_000);
    expect(raw.refusals().join()).toMatch('deletes more than 1000 pieces of parts of the record a cashier may not change');
    expect(Y.encodeStateAsUpdate(room(p.name).doc).length).toBe(bytes);
    expect(sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.length).toBe(5000);
    raw.close();
    nurse.provider.destroy();
  });

  it('an update that lists one session twice (a decoy block before the real one) is refused as malformed', async () => {
    const p = await freshPatient('Decoy');
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'clinician'));
    await raw.opened;
    const local = copyOf(p.name, 0x7e601);
    const sv = Y.encodeStateVector(local);
    nestElements(local, sectionOf<Y.XmlFragment>(local, p.visitId, 'notes')!, 400);
    const real = Y.encodeStateAsUpdate(local, sv);
    // Before the real block, one for the same session and clocks holding top-level plain values:
    // Yjs applies only the last block it reads for a session, a check reading them all would see
    // shallow values where the deep ones are.
    const d = decoding.createDecoder(real);
    expect(decoding.readVarUint(d)).toBe(1);
    const structs = decoding.readVarUint(d);
    const client = decoding.readVarUint(d);
    const clock = decoding.readVarUint(d);
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 2);
    encoding.writeVarUint(e, structs);
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
    for (let i = 0; i < structs; i++) {
      encoding.writeUint8(e, 8); // a plain value, its parent named
      encoding.writeVarUint(e, 1);
      encoding.writeVarString(e, 'zz');
      encoding.writeVarUint(e, 1);
      encoding.writeAny(e, 0);
    }
    encoding.writeVarUint(e, structs);
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
    encoding.writeUint8Array(e, real.subarray(d.pos));
    raw.sendUpdate(encoding.toUint8Array(e));
    const closed = await raw.waitClosed(5000);
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(`lists client ${client} twice`);
    expect(sectionOf<Y.XmlFragment>(stored(p.name), p.visitId, 'notes')!.length).toBe(0);
    expect(room(p.name).broken).toBeNull();
  });
});

describe('refused deletions over time', () => {
  it(`a person whose refused deletions keep being put back is cut off after ${RESTORED_BURST.toLocaleString('en')} pieces, over any number of connections`, async () => {
    const { p, nurse, clock0 } = await longAssessment('SparseAgain', 'b');
    // Each message stays under the gate's limit for one update (900 pieces), on text not yet touched,
    // and each comes on a connection of its own: the budget is the person's, not the connection's.
    const token = await login(srv.url, 'lab');
    const per = 900;
    const messages = Math.floor(RESTORED_BURST / per) + 1;
    let raw!: RawClient;
    for (let k = 0; k < messages; k++) {
      raw = new RawClient(srv.url, p.name, token);
      await raw.opened;
      raw.sendUpdate(sparseDelete(nurse.doc.clientID, clock0 + k * per * 2, per));
      await raw.waitFor((r) => r.type === 2, 10_000);
      if (k < messages - 1) raw.close();
    }
    expect(await raw.waitClosed(5000)).toEqual({ code: 4429, reason: 'Too many refused changes; reload the record' });
    expect(sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.toString()).toBe('b'.repeat(20_000));
    nurse.provider.destroy();
  });
});

describe('the server\'s own session', () => {
  it('after the record is reopened, nobody can write under the client id the server wrote under', async () => {
    const p = await freshPatient('ServerId');
    // Registration was written by the server.
    const first = srv.hub.open(p.name);
    const serverId = first.doc.clientID;
    expect(Y.getState(first.doc.store, serverId)).toBeGreaterThan(0);
    await until(() => !srv.hub.rooms.has(p.name), 5000, 'record unloaded');
    const raw = new RawClient(srv.url, p.name, await login(srv.url, 'cashier'));
    await raw.opened;
    await until(() => srv.hub.rooms.has(p.name), 5000, 'record reopened');
    expect(room(p.name).doc.clientID).not.toBe(serverId);
    const local = copyOf(p.name, serverId);
    const sv = Y.encodeStateVector(local);
    sectionOf(local, p.visitId, 'billing')!.set('paymentType', 'CASH');
    raw.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    await raw.waitFor((r) => r.type === 2, 5000);
    expect(raw.refusals().join()).toMatch('another person\'s session');
    srv.ctx.queue.flush();
    expect(srv.ctx.docs.load(p.name).owners.get(serverId)).toBe('system');
    expect(sectionOf(stored(p.name), p.visitId, 'billing')!.get('paymentType')).not.toBe('CASH');
    raw.close();
  });
});

describe('pieces per update', () => {
  /** A new patient, and a raw client of `username` on the record that has read it. */
  async function holding(tag: string, username: string): Promise<{ p: Awaited<ReturnType<typeof freshPatient>>; raw: RawClient }> {
    const p = await freshPatient(tag);
    const raw = new RawClient(srv.url, p.name, await login(srv.url, username));
    await raw.opened;
    await raw.fetchDoc();
    return { p, raw };
  }

  /** Characters typed one by one in front of the last, so no two merge: one item each. */
  function typedBackwards(name: string, visitId: string, n: number): Uint8Array {
    const d = copyOf(name, Math.floor(Math.random() * 0xffffffff));
    const sv = Y.encodeStateVector(d);
    const text = sectionOf<Y.Text>(d, visitId, 'assessment')!;
    d.transact(() => {
      for (let i = 0; i < n; i++) text.insert(0, 'x');
    });
    return Y.encodeStateAsUpdate(d, sv);
  }

  it(`an update carrying more than ${MAX_ITEMS_PER_UPDATE.toLocaleString('en')} pieces is refused whole, before anything of it is applied`, async () => {
    const { p, raw } = await holding('ManyItems', 'nurse');
    const before = Y.encodeStateVector(room(p.name).doc);
    raw.sendUpdate(typedBackwards(p.name, p.visitId, MAX_ITEMS_PER_UPDATE + 1));
    const refused = await raw.waitFor((r) => r.type === 2, 10_000);
    expect(refused.reason).toMatch(`more than the ${MAX_ITEMS_PER_UPDATE} one update may carry`);
    // Nothing of it in the record: no text, and no deleted pieces left behind either.
    expect(Y.encodeStateVector(room(p.name).doc)).toEqual(before);
    expect(sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.length).toBe(0);
    // A nurse's large but honest change still goes through.
    raw.sendUpdate(typedBackwards(p.name, p.visitId, 5000));
    await until(() => sectionOf<Y.Text>(room(p.name).doc, p.visitId, 'assessment')!.length === 5000, 10_000, 'the 5,000 characters saved');
    raw.close();
  });

  it('an honest offline shift full of overwrites and corrections is accepted whole, without a refusal', async () => {
    const { p, raw } = await holding('OfflineCorrections', 'nurse');
    const d = copyOf(p.name, Math.floor(Math.random() * 0xffffffff));
    const sv = Y.encodeStateVector(d);
    const vitals = sectionOf(d, p.visitId, 'vitals')!;
    const text = sectionOf<Y.Text>(d, p.visitId, 'assessment')!;
    // Offline: a sign written over 200 times, and 4,000 letters with a typo rubbed out after each:
    // more pieces made and deleted again than the budget of refused pieces.
    for (let i = 0; i < 200; i++) d.transact(() => vitals.set('heartRate', 60 + (i % 50)));
    for (let i = 0; i < 4000; i++) {
      d.transact(() => text.insert(text.length, 'q'));
      d.transact(() => text.delete(text.length - 1, 1));
      d.transact(() => text.insert(text.length, 'a'));
    }
    const before = raw.savedCount();
    raw.sendUpdate(Y.encodeStateAsUpdate(d, sv));
    await raw.waitFor(() => raw.savedCount() > before, 10_000);
    expect(raw.refusals()).toEqual([]);
    expect(raw.closed).toBeNull();
    expect(sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.toString()).toBe('a'.repeat(4000));
    expect(sectionOf(stored(p.name), p.visitId, 'vitals')!.get('heartRate')).toBe(60 + (199 % 50));
    raw.close();
  });

  it('a person adding pieces faster than anyone types is held back, unapplied and not answered as saved, and told why', async () => {
    const { p, raw } = await holding('ItemsBudget', 'nurse');
    // Two updates near the limit, 58,000 new pieces, nearly fill the budget of 60,000 on this record;
    // they are saved.
    for (let k = 0; k < 2; k++) {
      const before = raw.savedCount();
      raw.sendUpdate(typedBackwards(p.name, p.visitId, 29_000));
      await raw.waitFor(() => raw.savedCount() > before, 10_000);
    }
    // The third is held, unapplied and unanswered as saved, with the reason.
    const asks = raw.received.filter((r) => r.type === 0 && r.step === 0).length;
    const sv = Y.encodeStateVector(room(p.name).doc);
    const savedBefore = raw.savedCount();
    const third = typedBackwards(p.name, p.visitId, 29_000);
    raw.sendUpdate(third);
    expect((await raw.waitFor((r) => r.type === 2 && r.reason === ITEMS_OVER_REASON, 10_000)).reason).toBe(ITEMS_OVER_REASON);
    expect(Y.encodeStateVector(room(p.name).doc)).toEqual(sv);
    await new Promise((r) => setTimeout(r, 200));
    expect(raw.savedCount()).toBe(savedBefore);
    // Not asked for it again before the budget has room (here: about a minute).
    expect(raw.received.filter((r) => r.type === 0 && r.step === 0).length).toBe(asks);
    raw.close();
  });

  it(`refused new pieces count against the person's budget of ${RESTORED_BURST.toLocaleString('en')} refused pieces, since each stays in the record as a deleted piece`, async () => {
    const { p, raw } = await holding('RefusedItems', 'lab');
    raw.sendUpdate(typedBackwards(p.name, p.visitId, RESTORED_BURST + 500));
    expect(await raw.waitClosed(10_000)).toEqual({ code: 4429, reason: 'Too many refused changes; reload the record' });
    expect(sectionOf<Y.Text>(stored(p.name), p.visitId, 'assessment')!.length).toBe(0);
    // Coming back, the same person's updates to this record are refused unapplied for a while: each
    // reconnect would otherwise leave another update's worth of deleted pieces.
    const again = new RawClient(srv.url, p.name, await login(srv.url, 'lab'));
    await again.opened;
    await again.fetchDoc();
    const sv = Y.encodeStateVector(room(p.name).doc);
    again.sendUpdate(typedBackwards(p.name, p.visitId, RESTORED_BURST + 500));
    expect((await again.waitFor((r) => r.type === 2, 10_000)).reason).toBe(CUT_OFF_REASON);
    expect(Y.encodeStateVector(room(p.name).doc)).toEqual(sv);
    // Others are not affected.
    const nurse = new RawClient(srv.url, p.name, await login(srv.url, 'nurse'));
    await nurse.opened;
    await nurse.fetchDoc();
    nurse.sendUpdate(typedBackwards(p.name, p.visitId, 10));
    await until(() => sectionOf<Y.Text>(room(p.name).doc, p.visitId, 'assessment')!.length === 10, 5000, 'the nurse\'s text saved');
    again.close();
    nurse.close();
  });
});
