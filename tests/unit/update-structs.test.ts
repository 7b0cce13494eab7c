// The gate reads an update's structs itself before applying it: which clients it writes for, up to
// which clock, and whether every struct has a length. It must agree with Yjs's own reading of every
// update Yjs writes, and refuse the empty structs that leave a Yjs document stuck in a transaction.

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { MalformedUpdate, scanUpdate } from '../../apps/sync-server/src/gate/structs.js';
import { rng } from '../helpers/record.js';

function ranges(update: Uint8Array): Map<number, number> {
  const ends = new Map<number, number>();
  scanUpdate(update, ends);
  return ends;
}

/** A document with every kind of content Yjs encodes, edited at random. */
function busyDoc(seed: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const rand = rng(seed);
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  const map = doc.getMap('m');
  const text = doc.getText('t');
  const list = doc.getArray<unknown>('a');
  const xml = doc.getXmlFragment('x');
  const words = ['a', 'Ödem', 'héllo', '血压', '🩺 pulse', 'x'.repeat(200)];
  for (let i = 0; i < 120; i++) {
    const pick = Math.floor(rand() * 10);
    const word = words[Math.floor(rand() * words.length)]!;
    if (pick === 0) map.set(`k${i % 7}`, { n: i, s: word, list: [1, null, true] });
    else if (pick === 1) map.set(`k${i % 7}`, new Uint8Array([i, 1, 2]));
    else if (pick === 2) text.insert(Math.floor(rand() * (text.length + 1)), word, rand() < 0.3 ? { bold: true } : undefined);
    else if (pick === 3 && text.length > 2) text.delete(Math.floor(rand() * (text.length - 1)), 2);
    else if (pick === 4) text.insertEmbed(Math.floor(rand() * (text.length + 1)), { image: word });
    else if (pick === 5) list.insert(Math.floor(rand() * (list.length + 1)), [i, word, null, 2.5, -7, { deep: [word] }]);
    else if (pick === 6 && list.length > 1) list.delete(0, Math.min(3, list.length));
    else if (pick === 7) {
      const p = new Y.XmlElement('paragraph');
      p.insert(0, [new Y.XmlText(word)]);
      xml.insert(xml.length, [p]);
    } else if (pick === 8) map.set(`sub${i}`, new Y.Map());
    else if (pick === 9 && xml.length) xml.delete(0, 1);
    else map.set('doc', new Y.Doc());
  }
  return { doc, updates };
}

/** One struct under client 77 at clock 0: its info byte, then what follows it. */
function oneStruct(info: number, write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint(e, 77);
  encoding.writeVarUint(e, 0);
  encoding.writeUint8(e, info);
  write(e);
  encoding.writeVarUint(e, 0); // delete set: no clients
  return encoding.toUint8Array(e);
}

const IN_ROOT_MAP = 0b0010_0000; // no origins: parent by name, then a map key
const rootMapEntry = (kind: number, content: (e: encoding.Encoder) => void): Uint8Array =>
  oneStruct(IN_ROOT_MAP | kind, (e) => {
    encoding.writeVarUint(e, 1);
    encoding.writeVarString(e, 'm');
    encoding.writeVarString(e, 'k');
    content(e);
  });

describe('reading the structs of an update', () => {
  it('finds the same clients and end clocks as Yjs, for every kind of content', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { doc, updates } = busyDoc(seed);
      // Each live update, the whole state (with collected ranges), and merged ones with gaps (skips).
      const all = [...updates, Y.encodeStateAsUpdate(doc), Y.mergeUpdates(updates.filter((_, i) => i % 3 !== 1))];
      for (const u of all) expect(ranges(u)).toEqual(Y.parseUpdateMeta(u).to);
      const kinds = new Set<string>();
      for (const s of Y.decodeUpdate(Y.encodeStateAsUpdate(doc)).structs) kinds.add(s instanceof Y.Item ? s.content.constructor.name : s.constructor.name);
      expect(kinds.has('GC') || kinds.has('ContentDeleted')).toBe(true);
    }
  });

  it('keeps the furthest end when several updates write for the same client', () => {
    const { updates } = busyDoc(9);
    const ends = new Map<number, number>();
    for (const u of [...updates].reverse()) scanUpdate(u, ends);
    expect(ends).toEqual(Y.parseUpdateMeta(Y.mergeUpdates(updates)).to);
  });

  it('refuses structs of length zero, of every kind', () => {
    const empties: [string, Uint8Array][] = [
      ['values', rootMapEntry(8, (e) => encoding.writeVarUint(e, 0))],
      ['text', rootMapEntry(4, (e) => encoding.writeVarString(e, ''))],
      ['JSON values', rootMapEntry(2, (e) => encoding.writeVarUint(e, 0))],
      ['deleted range', rootMapEntry(1, (e) => encoding.writeVarUint(e, 0))],
      ['collected range', oneStruct(0, (e) => encoding.writeVarUint(e, 0))],
      ['skipped range', oneStruct(10, (e) => encoding.writeVarUint(e, 0))],
    ];
    for (const [what, u] of empties) expect(() => ranges(u), what).toThrow(MalformedUpdate);
    // The same shapes with one value, one character, one clock are ordinary updates.
    const ok = rootMapEntry(8, (e) => (encoding.writeVarUint(e, 1), encoding.writeAny(e, 5)));
    expect(ranges(ok)).toEqual(new Map([[77, 1]]));
    expect(ranges(rootMapEntry(4, (e) => encoding.writeVarString(e, '🩺')))).toEqual(new Map([[77, 2]]));
  });

  it('refuses unknown content and shared types, and updates cut short anywhere', () => {
    expect(() => ranges(rootMapEntry(11, () => {}))).toThrow(/unknown content type 11/);
    expect(() => ranges(rootMapEntry(7, (e) => encoding.writeVarUint(e, 9)))).toThrow(/unknown shared type 9/);
    const { updates } = busyDoc(7);
    // Every cut, in the structs or in the delete set: Yjs applies the structs before it reads the
    // delete set, so a cut there must be found first.
    const whole = Y.encodeStateAsUpdate(busyDoc(8).doc);
    expect(Y.decodeUpdate(whole).ds.clients.size).toBeGreaterThan(0);
    for (const u of [updates.find((x) => x.length > 60)!, whole]) {
      for (let n = 1; n < u.length; n++) expect(() => ranges(u.slice(0, n)), `cut at ${n} of ${u.length}`).toThrow();
      expect(ranges(u)).toEqual(Y.parseUpdateMeta(u).to);
    }
  });
});
