// Offline tablets and big records: a shift of edits made without a network and synced on reconnect,
// and the time a fresh client needs to open a record with a long history.

import * as Y from 'yjs';
import { BenchConn, type Endpoint } from '../client/conn.js';
import { nowMs, offlineShift, type RoomSpec } from './workload.js';
import { openRooms } from './rooms.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 0x100000000);
}

export interface BundleResult {
  edits: number;
  bytes: number;
  /** From opening the socket until the server has checked and saved the whole bundle. */
  ms: number;
}

/** Syncs, goes offline, makes `edits` edits, reconnects and times until the bundle is saved. */
export async function offlineBundle(ep: Endpoint, spec: RoomSpec, edits: number, seed = 7): Promise<BundleResult> {
  const [room] = await openRooms(ep, [spec], 1);
  const tablet = room!.conns[0]!;
  await tablet.close();
  tablet.live = false;
  const before = Y.encodeStateVector(tablet.doc);
  offlineShift(tablet.doc, spec.visitId, edits, lcg(seed));
  const bytes = Y.encodeStateAsUpdate(tablet.doc, before).length;
  const t0 = nowMs();
  await tablet.connect(); // the handshake sends the bundle as sync step 2
  await tablet.barrier();
  const ms = nowMs() - t0;
  await tablet.close();
  tablet.doc.destroy();
  return { edits, bytes, ms };
}

export interface OpenResult {
  bytes: number;
  ms: number;
}

/** Writes a large record (many edits, long assessment) through the server and leaves it. */
export async function writeLarge(ep: Endpoint, spec: RoomSpec, edits: number): Promise<number> {
  const [room] = await openRooms(ep, [spec], 1);
  const c = room!.conns[0]!;
  const rand = lcg(11);
  // In slices, as a long shift of bundles: one huge frame would only test the frame limit.
  for (let done = 0; done < edits; done += 2000) {
    c.doc.transact(() => offlineShift(c.doc, spec.visitId, Math.min(2000, edits - done), rand));
    await c.barrier();
  }
  const bytes = Y.encodeStateAsUpdate(c.doc).length;
  await c.close();
  c.doc.destroy();
  return bytes;
}

/** Time for a new client to connect and hold the whole record. */
export async function openTimed(ep: Endpoint, docName: string): Promise<OpenResult> {
  const c = new BenchConn(ep, docName);
  const t0 = nowMs();
  await c.connect();
  const ms = nowMs() - t0;
  const bytes = Y.encodeStateAsUpdate(c.doc).length;
  await c.close();
  c.doc.destroy();
  return { bytes, ms };
}

/** Keeps one connection on a document (y-websocket forgets documents nobody holds). */
export async function holdOpen(ep: Endpoint, docName: string): Promise<BenchConn> {
  const c = new BenchConn(ep, docName);
  await c.connect();
  return c;
}
