// The clinic workload every server gets: the same patient record shape, the same edits, and the
// fan-out timestamp carried inside the edit itself (a vital sign's value), so no side channel is timed.

import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { openVisit, sectionOf, setContact, setDemographics } from '@pamoja/schema';

export interface RoomSpec {
  docName: string;
  visitId: string;
  /** The peers start empty: the first client writes the registration Pamoja's server writes itself. */
  seed: boolean;
}

/** The registration a receptionist's POST /api/patients produces, for servers without our API. */
export function seedRecord(doc: Y.Doc, visitId: string): void {
  doc.transact(() => {
    setDemographics(doc, { firstName: 'Bench', lastName: 'Patient', sex: 'female', dateOfBirth: '1990-01-01' });
    setContact(doc, { phone: '+254700000000' });
    openVisit(doc, { visitId });
  });
}

export function vitals(doc: Y.Doc, visitId: string): Y.Map<unknown> {
  const m = sectionOf(doc, visitId, 'vitals');
  if (!m) throw new Error(`visit ${visitId} has no vitals section (record not synced or seeded)`);
  return m;
}

/**
 * Vital signs whose allowed range covers 0..100, so a nurse may write an encoded timestamp in them.
 * One writer per key per room: no concurrent overwrite, so no server does conflict bookkeeping.
 */
export const TIMED_KEYS = ['heartRate', 'respiratoryRate', 'systolic', 'diastolic', 'spo2', 'weight', 'height'] as const;
const WRAP_MS = 100_000;

const TIMED = new Set<string>(TIMED_KEYS);

/** What a fan-out receiver reads from an update it is sent. */
export interface ReadUpdate {
  /** The timestamps set by others (see readUpdate). */
  timestamps: number[];
  /** Per client, the clock range its structs cover, and whether they cover all of it. */
  ranges: Map<number, { from: number; to: number; whole: boolean }>;
}

/**
 * Reads an update without applying it to a document. In a fan-out run every update sets one vital
 * sign to a timestamp. Only a key's first set names the key in the update (later ones name the value
 * they replace, which only a document could resolve), so any single number set under a map by another
 * client counts, unless the update names another key.
 * The clock ranges tell a value that was overwritten before it was sent on (still there, collected,
 * in the range of the update that overwrote it) from one that never arrived (a gap in the range).
 */
export function readUpdate(update: Uint8Array, ownClientId: number): ReadUpdate {
  const timestamps: number[] = [];
  const ranges: ReadUpdate['ranges'] = new Map();
  for (const s of Y.decodeUpdate(update).structs) {
    const r = ranges.get(s.id.client);
    if (!r) ranges.set(s.id.client, { from: s.id.clock, to: s.id.clock + s.length, whole: !(s instanceof Y.Skip) });
    else {
      if (s.id.clock !== r.to || s instanceof Y.Skip) r.whole = false;
      r.to = s.id.clock + s.length;
    }
    if (!(s instanceof Y.Item) || !(s.content instanceof Y.ContentAny) || s.content.arr.length !== 1) continue;
    if (s.id.client === ownClientId) continue; // the y-websocket server echoes a writer's own update
    if (s.parentSub !== null && !TIMED.has(s.parentSub)) continue;
    const v = s.content.arr[0];
    if (typeof v === 'number') timestamps.push(v);
  }
  return { timestamps, ranges };
}

/** Yjs's content type number for ContentAny (a JSON-like value), and its struct info bits. */
const CONTENT_ANY = 8;
const HAS_ORIGIN = 0x80;
const HAS_PARENT_SUB = 0x20;

/**
 * A fan-out writer's later sets of its own vital sign, encoded the way Yjs encodes them, without a
 * document. The bytes are those `map.set(key, value)` on the writer's copy of the record would send
 * (tests/unit/bench-fanout.test.ts compares them): one new item whose origin is the value it
 * replaces, and that value deleted. Each set through a copy runs a Yjs transaction, and the copy
 * keeps the value until the next set replaces it, seconds later. In many-rooms runs at issue scale,
 * setting through the copies made each load process collect young garbage every 1.9 s, about 13 ms
 * each time; encoded alone, every 3.2 s (README, "Benchmark").
 */
export class KeySetter {
  private readonly client: number;
  /** Clock of the value the next set replaces, and of the next set's own item. */
  private prev: number;
  private next: number;

  /** Starts from the writer's own current value of `key`, set through the document. */
  constructor(doc: Y.Doc, map: Y.Map<unknown>, key: string) {
    const item = (map as unknown as { _map: Map<string, Y.Item> })._map.get(key);
    if (!item || item.deleted || item.id.client !== doc.clientID || item.length !== 1) {
      throw new Error(`${key} was not last set by this writer; set it through the document first`);
    }
    this.client = doc.clientID;
    this.prev = item.id.clock;
    this.next = Y.getState(doc.store, doc.clientID);
  }

  /** The update that sets the key to `value` after the last one. */
  set(value: number): Uint8Array {
    const e = encoding.createEncoder();
    // Structs: one client, one struct, starting at its next clock.
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, this.client);
    encoding.writeVarUint(e, this.next);
    // The item: its origin is the value it replaces (so no parent or key is written), then the value.
    encoding.writeUint8(e, CONTENT_ANY | HAS_ORIGIN | HAS_PARENT_SUB);
    encoding.writeVarUint(e, this.client);
    encoding.writeVarUint(e, this.prev);
    encoding.writeVarUint(e, 1);
    encoding.writeAny(e, value);
    // Delete set: the replaced value.
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, this.client);
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, this.prev);
    encoding.writeVarUint(e, 1);
    this.prev = this.next++;
    return encoding.toUint8Array(e);
  }
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** The send time as a value in 0..100 (seconds within a 100 s window, microsecond precision). */
export const encodeTs = (ms: number): number => (ms % WRAP_MS) / 1000;

/** A tablet's offline shift: `edits` separate changes to vitals, triage and the nurse's assessment. */
export function offlineShift(doc: Y.Doc, visitId: string, edits: number, rand: () => number = Math.random): void {
  const v = vitals(doc, visitId);
  const triage = sectionOf(doc, visitId, 'triage')!;
  const text = sectionOf<Y.Text>(doc, visitId, 'assessment')!;
  const words = ['fever', 'cough', 'three days', 'no rash', 'alert', 'hydrated', 'pain', 'stable'];
  for (let i = 0; i < edits; i++) {
    const r = i % 10;
    if (r < 5) v.set(TIMED_KEYS[i % TIMED_KEYS.length]!, 40 + Math.floor(rand() * 60));
    else if (r < 6) triage.set('chiefComplaint', `${words[i % words.length]} ${i}`);
    else text.insert(Math.floor(rand() * (text.length + 1)), `${words[i % words.length]} `);
  }
}
