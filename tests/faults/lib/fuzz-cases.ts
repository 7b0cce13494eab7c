// Bad frames for the fuzz suite: random, truncated, bit-flipped, and crafted to hit known weak spots
// (huge lengths, endless run-length claims, missing dependencies, empty items, wrong frame kinds,
// floods, types nested deep enough to overflow Yjs's recursion).

import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { sectionOf } from '@pamoja/schema';
import { emptyItemAfter } from '../../helpers/crafted.js';

export interface FuzzCase {
  name: string;
  /** Frames to send; a string is sent as a text frame. */
  frames: (Uint8Array | string)[];
  /** A frame this bad must get the connection closed, or the update refused, with a reason. */
  mustAnswer: boolean;
}

const msg = (...parts: ((e: encoding.Encoder) => void)[]): Uint8Array => {
  const e = encoding.createEncoder();
  for (const p of parts) p(e);
  return encoding.toUint8Array(e);
};
const syncUpdate = (u: Uint8Array): Uint8Array => msg((e) => encoding.writeVarUint(e, 0), (e) => encoding.writeVarUint(e, 2), (e) => encoding.writeVarUint8Array(e, u));

/** Valid updates against the room's current state, used as seeds for mutation. */
export function seedUpdates(state: Uint8Array, visitId: string): {
  valid: Uint8Array[]; dependent: Uint8Array; emptyItem: Uint8Array[]; deep: (depth: number) => Uint8Array;
} {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  const out: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => out.push(u));
  sectionOf(doc, visitId, 'vitals')!.set('heartRate', 88);
  sectionOf<Y.Text>(doc, visitId, 'assessment')!.insert(0, 'fuzz seed text ');
  sectionOf<Y.Text>(doc, visitId, 'assessment')!.insert(5, 'more ');
  doc.destroy();
  // An update that depends on one nobody ever sends (another client's first edit): it stays
  // unsatisfiable however many valid seeds the run has applied.
  const hidden = new Y.Doc();
  Y.applyUpdate(hidden, state);
  const parts: Uint8Array[] = [];
  hidden.on('update', (u: Uint8Array) => parts.push(u));
  sectionOf<Y.Text>(hidden, visitId, 'assessment')!.insert(0, 'never sent ');
  sectionOf<Y.Text>(hidden, visitId, 'assessment')!.insert(3, 'x');
  hidden.destroy();
  // A value written twice, then an item of length zero right after the overwritten one: Yjs deletes
  // it as it integrates, and then fails in its own end-of-transaction work.
  const twice = new Y.Doc();
  Y.applyUpdate(twice, state);
  const rate = sectionOf(twice, visitId, 'vitals')!;
  const sv = Y.encodeStateVector(twice);
  rate.set('respiratoryRate', 16);
  rate.set('respiratoryRate', 17);
  const emptyItem = [syncUpdate(Y.encodeStateAsUpdate(twice, sv)), syncUpdate(emptyItemAfter({ client: twice.clientID, clock: 0 }))];
  twice.destroy();
  // Maps nested `depth` deep in one update (past the server's limit of 100 levels, up to where Yjs's
  // own recursion would overflow the stack when they are deleted or collected).
  const deep = (depth: number): Uint8Array => {
    const d = new Y.Doc();
    Y.applyUpdate(d, state);
    const before = Y.encodeStateVector(d);
    d.transact(() => {
      let m = new Y.Map<unknown>();
      sectionOf(d, visitId, 'vitals')!.set('heartRate', m);
      for (let k = 1; k < depth; k++) {
        const n = new Y.Map<unknown>();
        m.set('k', n);
        m = n;
      }
    });
    const u = syncUpdate(Y.encodeStateAsUpdate(d, before));
    d.destroy();
    return u;
  };
  return { valid: out.map(syncUpdate), dependent: syncUpdate(parts[1]!), emptyItem, deep };
}

/** How many kinds of case makeCase cycles through. */
export const CASE_KINDS = 18;

export function makeCase(i: number, rand: () => number, seeds: ReturnType<typeof seedUpdates>, maxFrame: number): FuzzCase {
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const base = seeds.valid[int(seeds.valid.length)]!;
  switch (i % CASE_KINDS) {
    case 0: return { name: 'random bytes', frames: [bytes(1 + int(300))], mustAnswer: false };
    case 1: return { name: 'truncated update', frames: [base.slice(0, 3 + int(Math.max(1, base.length - 4)))], mustAnswer: true };
    case 2: {
      const m = base.slice();
      for (let k = 0; k < 1 + int(8); k++) m[int(m.length)]! ^= 1 << int(8);
      return { name: 'bit-flipped update', frames: [m], mustAnswer: false };
    }
    case 3: return { name: 'varuint overflow', frames: [Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])], mustAnswer: true };
    case 4: return { name: 'unknown sync step', frames: [msg((e) => encoding.writeVarUint(e, 0), (e) => encoding.writeVarUint(e, 7), (e) => encoding.writeVarUint8Array(e, bytes(4)))], mustAnswer: true };
    case 5: return { name: 'length larger than frame', frames: [Uint8Array.from([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])], mustAnswer: true };
    case 6: return { name: 'update with missing dependencies', frames: [seeds.dependent], mustAnswer: true };
    case 7: // claims 2^31 clients' worth of structs and delivers none
      return { name: 'endless struct count', frames: [syncUpdate(msg((e) => encoding.writeVarUint(e, 2 ** 31)))], mustAnswer: true };
    case 8: // a delete set spanning a billion clocks of an unknown client
      return { name: 'huge delete range', frames: [syncUpdate(msg((e) => encoding.writeVarUint(e, 0), (e) => encoding.writeVarUint(e, 1), (e) => encoding.writeVarUint(e, 12345), (e) => encoding.writeVarUint(e, 1), (e) => encoding.writeVarUint(e, 0), (e) => encoding.writeVarUint(e, 2 ** 30)))], mustAnswer: false };
    case 9: return { name: 'awareness garbage', frames: [msg((e) => encoding.writeVarUint(e, 1), (e) => encoding.writeVarUint8Array(e, msg((x) => encoding.writeVarUint(x, 1), (x) => encoding.writeVarUint(x, 99), (x) => encoding.writeVarUint(x, 1), (x) => encoding.writeVarString(x, '{not json'))))], mustAnswer: true };
    case 10: return { name: 'extension message not JSON', frames: [msg((e) => encoding.writeVarUint(e, 100), (e) => encoding.writeVarString(e, '{"type":'))], mustAnswer: true };
    case 11: return { name: 'text frame', frames: ['hello, I am not binary'], mustAnswer: true };
    case 12: return { name: 'frame over the size limit', frames: [new Uint8Array(maxFrame + 1024)], mustAnswer: true };
    case 13: return { name: 'empty frame', frames: [new Uint8Array(0)], mustAnswer: true };
    case 14: return { name: 'message flood', frames: Array.from({ length: 2500 }, () => Uint8Array.from([3])), mustAnswer: true };
    case 15: return { name: 'empty item after an overwritten value', frames: seeds.emptyItem, mustAnswer: true };
    case 16: return { name: 'types nested too deep', frames: [seeds.deep(101 + int(5000))], mustAnswer: true };
    default: return { name: 'unknown message type', frames: [Uint8Array.from([42, ...bytes(int(20))])], mustAnswer: true };
  }
}
