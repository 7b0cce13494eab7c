// Ingest: each writer blasts small map updates (prepared beforehand, so the load side spends nothing
// while the clock runs) and then waits until the server has handled, and for Pamoja saved, all of them.

import * as Y from 'yjs';
import { BenchConn, type Endpoint } from '../client/conn.js';
import { UPDATE } from '../client/wire.js';
import { TIMED_KEYS, nowMs, vitals, type RoomSpec } from './workload.js';
import { openRooms, closeRooms } from './rooms.js';

export interface IngestResult {
  t0: number;
  t1: number;
  sent: number;
  /** Acknowledgements received (Pamoja: 'saved'; Hocuspocus: sync status), for the record. */
  acks: number;
}

function prepare(conn: BenchConn, visitId: string, n: number): Uint8Array[] {
  // A private copy of the synced doc, so producing the updates sends nothing.
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(conn.doc));
  const out: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => out.push(conn.wire.sync(UPDATE, u)));
  const map = vitals(doc, visitId);
  for (let i = 0; i < n; i++) map.set(TIMED_KEYS[i % TIMED_KEYS.length]!, 40 + (i % 60));
  doc.destroy();
  return out;
}

export async function ingest(ep: Endpoint, specs: RoomSpec[], updatesPerWriter: number): Promise<IngestResult> {
  const rooms = await openRooms(ep, specs, 1);
  const writers = rooms.map((r) => ({ conn: r.conns[0]!, msgs: prepare(r.conns[0]!, r.spec.visitId, updatesPerWriter) }));
  for (const w of writers) w.conn.live = false; // the prepared copy already holds these edits
  const ackBase = writers.reduce((s, w) => s + w.conn.saved, 0);
  const t0 = nowMs();
  // Interleave writers the way concurrent tablets arrive, in chunks so sockets stay busy.
  const chunk = 100;
  for (let i = 0; i < updatesPerWriter; i += chunk) {
    for (const w of writers) for (let j = i; j < Math.min(i + chunk, updatesPerWriter); j++) w.conn.send(w.msgs[j]!);
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(writers.map((w) => w.conn.barrier(300_000)));
  const t1 = nowMs();
  const acks = writers.reduce((s, w) => s + w.conn.saved, 0) - ackBase;
  await closeRooms(rooms);
  return { t0, t1, sent: updatesPerWriter * writers.length, acks };
}
