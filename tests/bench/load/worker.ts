// A load process: the orchestrator (run.ts) sends it jobs over IPC, it runs them against one server
// and answers with raw figures. Runs pinned to the load core; holds no state beyond its open rooms.

import type { Endpoint } from '../client/conn.js';
import type { RoomSpec } from './workload.js';
import { closeRooms, openRooms, type OpenRoom } from './rooms.js';
import { fanout, type FanoutParams } from './fanout.js';
import { ingest } from './ingest.js';
import { holdOpen, offlineBundle, openTimed, writeLarge } from './tablet.js';
import type { BenchConn } from '../client/conn.js';

export type Job =
  | { cmd: 'open'; ep: Endpoint; group: string; rooms: RoomSpec[]; perRoom: number }
  | { cmd: 'fanout'; group: string; params: FanoutParams }
  | { cmd: 'close'; group: string }
  | { cmd: 'ingest'; ep: Endpoint; rooms: RoomSpec[]; updates: number }
  | { cmd: 'bundle'; ep: Endpoint; room: RoomSpec; edits: number }
  | { cmd: 'writeLarge'; ep: Endpoint; room: RoomSpec; edits: number }
  | { cmd: 'openTimed'; ep: Endpoint; docName: string }
  | { cmd: 'hold'; ep: Endpoint; docName: string }
  | { cmd: 'release' };

const groups = new Map<string, OpenRoom[]>();
const held: BenchConn[] = [];

async function run(job: Job): Promise<unknown> {
  switch (job.cmd) {
    case 'open': {
      const rooms = await openRooms(job.ep, job.rooms, job.perRoom);
      groups.set(job.group, rooms);
      return { conns: rooms.reduce((s, r) => s + r.conns.length, 0) };
    }
    case 'fanout':
      return fanout(groups.get(job.group) ?? [], job.params);
    case 'close':
      await closeRooms(groups.get(job.group) ?? []);
      groups.delete(job.group);
      return {};
    case 'ingest':
      return ingest(job.ep, job.rooms, job.updates);
    case 'bundle':
      return offlineBundle(job.ep, job.room, job.edits);
    case 'writeLarge':
      return { bytes: await writeLarge(job.ep, job.room, job.edits) };
    case 'openTimed':
      return openTimed(job.ep, job.docName);
    case 'hold':
      held.push(await holdOpen(job.ep, job.docName));
      return {};
    case 'release':
      for (const c of held.splice(0)) (await c.close(), c.doc.destroy());
      return {};
  }
}

process.on('message', (msg: { id: number; job: Job }) => {
  run(msg.job).then(
    (result) => process.send!({ id: msg.id, result }),
    (e: unknown) => process.send!({ id: msg.id, error: e instanceof Error ? e.stack ?? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
