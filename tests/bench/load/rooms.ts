// Opening many connections across many rooms from one load process, a bounded number at a time.

import { BenchConn, type Endpoint } from '../client/conn.js';
import { seedRecord, vitals, type RoomSpec } from './workload.js';

export interface OpenRoom {
  spec: RoomSpec;
  conns: BenchConn[];
}

/** The first connection seeds a peer's empty room and waits until the server has it; the rest then join. */
async function openRoom(ep: Endpoint, spec: RoomSpec, perRoom: number): Promise<OpenRoom> {
  const first = new BenchConn(ep, spec.docName);
  await first.connect();
  if (spec.seed && !first.doc.getMap('visits').has(spec.visitId)) {
    seedRecord(first.doc, spec.visitId);
    await first.barrier();
  }
  const rest = Array.from({ length: perRoom - 1 }, () => new BenchConn(ep, spec.docName));
  await Promise.all(rest.map((c) => c.connect()));
  const conns = [first, ...rest];
  for (const c of conns) vitals(c.doc, spec.visitId); // throws if the record is not there
  return { spec, conns };
}

export async function openRooms(ep: Endpoint, specs: RoomSpec[], perRoom: number, parallel = 25): Promise<OpenRoom[]> {
  const out: OpenRoom[] = [];
  for (let i = 0; i < specs.length; i += parallel) {
    out.push(...(await Promise.all(specs.slice(i, i + parallel).map((s) => openRoom(ep, s, perRoom)))));
  }
  return out;
}

export async function closeRooms(rooms: OpenRoom[]): Promise<void> {
  const all = rooms.flatMap((r) => r.conns);
  for (let i = 0; i < all.length; i += 200) await Promise.all(all.slice(i, i + 200).map((c) => c.close()));
  for (const c of all) c.doc.destroy();
}
