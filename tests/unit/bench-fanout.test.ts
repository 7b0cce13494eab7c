// The benchmark's fan-out runs. Receivers read send times out of the updates they receive without
// applying them: every timed vital sign a writer sets must be found, whether the update names the key
// (the first set) or only the value it replaces (every later one), and nothing else may count. A
// writer's later sets, encoded without its copy of the record, must be the bytes Yjs itself would
// send. A value overwritten before the server passed it on must be told from one lost on the way.
// A run disturbed by the hypervisor is measured again, and which try counts depends on steal
// alone.

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { KeySetter, encodeTs, readUpdate, seedRecord, vitals } from '../bench/load/workload.js';
import { keptTry } from '../bench/scenarios.js';

const VISIT = 'v-bench';

/** A writer's copy of a seeded record, and the updates its own edits produce. */
function writer(from?: Y.Doc): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc();
  if (from) Y.applyUpdate(doc, Y.encodeStateAsUpdate(from));
  else seedRecord(doc, VISIT);
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  return { doc, updates };
}

describe('bench fan-out timestamps', () => {
  it('finds the send time in a first set and in every later set of the same key', () => {
    const a = writer();
    const v = vitals(a.doc, VISIT);
    v.set('heartRate', encodeTs(1_000_123.5));
    v.set('heartRate', encodeTs(1_000_456.25));
    v.set('heartRate', encodeTs(1_000_789));
    expect(a.updates).toHaveLength(3);
    const other = a.doc.clientID + 1;
    expect(a.updates.map((u) => readUpdate(u, other).timestamps)).toEqual([[encodeTs(1_000_123.5)], [encodeTs(1_000_456.25)], [encodeTs(1_000_789)]]);
  });

  it('ignores the reader\'s own edits, which the y-websocket server sends back to their author', () => {
    const a = writer();
    vitals(a.doc, VISIT).set('spo2', encodeTs(5_000));
    expect(readUpdate(a.updates[0]!, a.doc.clientID).timestamps).toEqual([]);
  });

  it('reads every writer\'s time from an update that carries several', () => {
    const a = writer();
    const b = writer(a.doc);
    vitals(a.doc, VISIT).set('heartRate', encodeTs(7_000));
    vitals(b.doc, VISIT).set('systolic', encodeTs(7_001));
    vitals(b.doc, VISIT).set('systolic', encodeTs(7_002));
    const merged = Y.mergeUpdates([...a.updates, ...b.updates]);
    expect(readUpdate(merged, 0).timestamps.sort()).toEqual([encodeTs(7_000), encodeTs(7_001), encodeTs(7_002)].sort());
  });

  it('does not count a number set under a key that is not timed, nor text or registration data', () => {
    const a = writer();
    const seed = Y.encodeStateAsUpdate(a.doc);
    expect(readUpdate(seed, 0).timestamps).toEqual([]);
    vitals(a.doc, VISIT).set('temperature', 37.2);
    a.doc.getMap('scratch').set('note', 'fever');
    expect(a.updates.flatMap((u) => readUpdate(u, 0).timestamps)).toEqual([]);
  });
});

describe('bench fan-out delivery', () => {
  it('tells a value overwritten before it was passed on from an update that never arrived', () => {
    const a = writer();
    const v = vitals(a.doc, VISIT);
    v.set('heartRate', encodeTs(1_000));
    const server = writer(a.doc);
    const afterFirst = Y.getState(a.doc.store, a.doc.clientID);
    const [set2, set3, set4] = [2_000, 3_000, 4_000].map((t) => {
      v.set('heartRate', encodeTs(t));
      return a.updates.at(-1)!;
    });
    const afterThird = Y.getState(a.doc.store, a.doc.clientID) - 1;
    // Sets 2 and 3 arrive at the server together and are applied in one transaction: what Yjs
    // encodes for it carries set 3's value, and set 2's clock range with its value already collected.
    server.doc.transact(() => [set2!, set3!].forEach((u) => Y.applyUpdate(server.doc, u)));
    expect(server.updates).toHaveLength(1);
    const together = readUpdate(server.updates[0]!, 0);
    expect(together.timestamps).toEqual([encodeTs(3_000)]);
    expect(together.ranges.get(a.doc.clientID)).toEqual({ from: afterFirst, to: afterThird, whole: true });
    // A receiver that had set 1 and then gets set 4 without sets 2 and 3 sees the gap.
    const alone = readUpdate(set4!, 0);
    expect(alone.timestamps).toEqual([encodeTs(4_000)]);
    expect(alone.ranges.get(a.doc.clientID)!.from).toBe(afterThird);
    expect(alone.ranges.get(a.doc.clientID)!.from).toBeGreaterThan(afterFirst);
  });
});

describe('bench fan-out writer', () => {
  it('sends the very bytes Yjs would send for each later set of its key', () => {
    // The server's copy, where an earlier writer (another run's) already set the key.
    const server = writer();
    vitals(server.doc, VISIT).set('heartRate', 61);
    const yjs = writer(server.doc);
    const mine = writer(server.doc);
    mine.doc.clientID = yjs.doc.clientID;
    vitals(yjs.doc, VISIT).set('heartRate', encodeTs(1_000));
    vitals(mine.doc, VISIT).set('heartRate', encodeTs(1_000));
    expect(mine.updates).toEqual(yjs.updates);
    const setter = new KeySetter(mine.doc, vitals(mine.doc, VISIT), 'heartRate');
    const values = [encodeTs(1_002.25), encodeTs(1_004.5), 72, encodeTs(99_999.999)];
    const sent = values.map((v) => setter.set(v));
    for (const v of values) vitals(yjs.doc, VISIT).set('heartRate', v);
    expect(sent).toEqual(yjs.updates.slice(1));
    for (const u of [yjs.updates[0]!, ...sent]) Y.applyUpdate(server.doc, u);
    expect(vitals(server.doc, VISIT).get('heartRate')).toBe(encodeTs(99_999.999));
    expect(server.doc.store.pendingStructs).toBeNull();
    expect(Y.encodeStateAsUpdate(server.doc)).toEqual(Y.encodeStateAsUpdate(yjs.doc));
    expect(sent.map((u) => readUpdate(u, 0).timestamps)).toEqual(values.map((v) => [v]));
  });

  it('only starts from a value the writer itself set last', () => {
    const a = writer();
    const v = vitals(a.doc, VISIT);
    expect(() => new KeySetter(a.doc, v, 'spo2')).toThrow(/not last set by this writer/);
    const b = writer(a.doc);
    vitals(b.doc, VISIT).set('spo2', 97);
    Y.applyUpdate(a.doc, b.updates[0]!);
    expect(() => new KeySetter(a.doc, v, 'spo2')).toThrow(/not last set by this writer/);
  });
});

describe('bench fan-out tries', () => {
  it('keeps the first try at or under the steal limit', () => {
    expect(keptTry([{ steal: 1.2 }], 3)).toBe(0);
    expect(keptTry([{ steal: 3 }], 3)).toBe(0);
    expect(keptTry([{ steal: 12 }, { steal: 2.9 }], 3)).toBe(1);
    expect(keptTry([{ steal: 12 }, { steal: 0.5 }, { steal: 0 }], 3)).toBe(1);
  });

  it('keeps the try with the least steal when none is under the limit', () => {
    expect(keptTry([{ steal: 12 }, { steal: 30 }, { steal: 7.5 }], 3)).toBe(2);
    expect(keptTry([{ steal: 9 }, { steal: 20 }, { steal: 9 }], 3)).toBe(0);
  });

  it('counts a run as quiet where steal cannot be read', () => {
    expect(keptTry([{ steal: null }], 3)).toBe(0);
    expect(keptTry([{ steal: 40 }, { steal: null }], 3)).toBe(1);
  });
});
