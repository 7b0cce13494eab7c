// The crash suite's engine: nurses edit under load while the server is SIGKILLed at random moments.
// After each restart the server's own state (read before any client may resend) must hold every edit
// acknowledged as saved before the kill; at the end every client and the server hold one document.

import * as Y from 'yjs';
import { sectionOf } from '@pamoja/schema';
import { FaultClient } from './fault-client.js';
import { ServerProc } from './server-proc.js';
import { lcg, readDoc, sameDoc, waitFor } from './util.js';

export interface CrashOptions {
  clients: number;
  rooms: number;
  kills: number;
  /** A kill lands this many ms after the previous restart, uniformly in [min, max]. */
  minMs: number;
  maxMs: number;
  editEveryMs: number;
  seed: number;
}

export interface CrashReport {
  kills: number;
  edits: number;
  ackedAtKills: number;
  lostAcked: string[];
  unackedAtEnd: number;
  converged: boolean;
  pending: boolean;
}

const TEXT_BUDGET = 60_000; // characters of assessment per room; past it clients switch to vital signs

export async function crashRun(o: CrashOptions, log: (s: string) => void = () => {}): Promise<CrashReport> {
  const rand = lcg(o.seed);
  const server = await ServerProc.create();
  let allowConnect = true;
  FaultClient.mayConnect = () => allowConnect;
  const clients: FaultClient[] = [];
  let editing: NodeJS.Timeout | null = null;
  try {
    const nurse = await server.login('nurse');
    const reception = await server.login('reception');
    const rooms: { id: string; visitId: string }[] = [];
    for (let i = 0; i < o.rooms; i++) rooms.push(await server.newPatient(reception, i));
    for (let i = 0; i < o.clients; i++) {
      const room = rooms[i % rooms.length]!;
      const c = new FaultClient(server.base, `patient:${room.id}`, nurse, null, lcg(o.seed * 31 + i));
      clients.push(c);
      c.connect();
    }
    await waitFor(() => clients.every((c) => c.synced), 30_000, 'clients synced');
    const roomOf = (c: FaultClient): { id: string; visitId: string } => rooms[clients.indexOf(c) % rooms.length]!;
    let n = 0;
    const inText = new Set<string>();
    editing = setInterval(() => {
      for (const [i, c] of clients.entries()) {
        if (!c.synced) continue;
        const { visitId } = roomOf(c);
        const token = `c${i}e${n++};`;
        c.edit(token, (doc) => {
          const text = sectionOf<Y.Text>(doc, visitId, 'assessment')!;
          if (text.length < TEXT_BUDGET) (text.insert(text.length, token), inText.add(token));
          else sectionOf(doc, visitId, 'vitals')!.set('heartRate', 40 + Math.floor(rand() * 100));
        });
      }
    }, o.editEveryMs);

    const lost: string[] = [];
    let ackedAtKills = 0;
    const check = async (label: string, acked: Map<FaultClient, string[]>): Promise<void> => {
      for (const room of rooms) {
        const doc = await readDoc(server.base, `patient:${room.id}`, nurse);
        const sv = Y.decodeStateVector(Y.encodeStateVector(doc));
        const text = sectionOf<Y.Text>(doc, room.visitId, 'assessment')!.toString();
        for (const [c, tokens] of acked) {
          if (roomOf(c) !== room) continue;
          for (const t of tokens) {
            const id = c.ids.get(t)!;
            const missing = (sv.get(id.client) ?? 0) <= id.clock || (inText.has(t) && !text.includes(t));
            if (missing) lost.push(`${label}: ${t}`);
          }
        }
        doc.destroy();
      }
    };
    for (let k = 1; k <= o.kills; k++) {
      await new Promise((r) => setTimeout(r, o.minMs + rand() * (o.maxMs - o.minMs)));
      allowConnect = false;
      await server.kill();
      const acked = new Map(clients.map((c) => [c, [...c.acked]]));
      ackedAtKills += [...acked.values()].reduce((s, a) => s + a.length, 0);
      await server.start();
      await check(`kill ${k}`, acked);
      allowConnect = true;
      await waitFor(() => clients.every((c) => c.synced), 30_000, `clients back after kill ${k}`);
      log(`kill ${k}/${o.kills}: ${clients.reduce((s, c) => s + c.acked.size, 0)} edits acknowledged so far, ${lost.length} lost`);
    }
    clearInterval(editing);
    editing = null;
    await waitFor(() => clients.every((c) => c.synced && c.acked.size === c.made.length), 30_000, 'every edit acknowledged');
    const unackedAtEnd = clients.reduce((s, c) => s + c.made.length - c.acked.size, 0);
    allowConnect = false;
    await server.kill();
    await server.start();
    await check('final', new Map(clients.map((c) => [c, [...c.acked]])));
    allowConnect = true;
    await waitFor(() => clients.every((c) => c.synced), 30_000, 'clients back after final restart');
    let converged = false;
    const deadline = Date.now() + 20_000;
    while (!converged && Date.now() < deadline) {
      converged = true;
      for (const room of rooms) {
        const doc = await readDoc(server.base, `patient:${room.id}`, nurse);
        for (const c of clients) if (roomOf(c) === room && !sameDoc(c.doc, doc)) converged = false;
        doc.destroy();
      }
      if (!converged) await new Promise((r) => setTimeout(r, 100));
    }
    const edits = clients.reduce((s, c) => s + c.made.length, 0);
    return { kills: o.kills, edits, ackedAtKills, lostAcked: lost, unackedAtEnd, converged, pending: clients.some((c) => c.hasPending()) };
  } finally {
    if (editing) clearInterval(editing);
    FaultClient.mayConnect = () => true;
    await Promise.all(clients.map((c) => c.stop()));
    await server.stop();
  }
}
