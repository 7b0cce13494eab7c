// The convergence suite's engine: nurses and clinicians make random edits through lossy, duplicating,
// reordering connections, drop off the network and see the server restart; at the end the server and
// every client must hold the identical document with nothing left pending.

import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { FaultClient, type Chaos } from './fault-client.js';
import { ServerProc } from './server-proc.js';
import { randomEdit, type Role } from './random-edits.js';
import { docDiff, lcg, readDoc, waitFor } from './util.js';

export interface ConvergenceOptions {
  clients: number;
  rooms: number;
  durationMs: number;
  restarts: number;
  chaos: Chaos;
  /** Chance per tick (10 ms) that some client loses its connection. */
  disconnect: number;
  seed: number;
}

export interface ConvergenceReport {
  edits: number;
  restarts: number;
  disconnects: number;
  converged: boolean;
  pending: boolean;
  diverged: string[];
}

export async function convergenceRun(o: ConvergenceOptions, log: (s: string) => void = () => {}): Promise<ConvergenceReport> {
  const rand = lcg(o.seed);
  const server = await ServerProc.create();
  const clients: { c: FaultClient; role: Role; visitId: string }[] = [];
  const stock: { doc: Y.Doc; provider: WebsocketProvider; visitId: string; docName: string }[] = [];
  try {
    const tokens = { nurse: await server.login('nurse'), clinician: await server.login('clinician') };
    const reception = await server.login('reception');
    const rooms: { id: string; visitId: string }[] = [];
    for (let i = 0; i < o.rooms; i++) rooms.push(await server.newPatient(reception, i));
    for (let i = 0; i < o.clients; i++) {
      const room = rooms[i % rooms.length]!;
      const role: Role = i % 2 === 0 ? 'nurse' : 'clinician';
      const c = new FaultClient(server.base, `patient:${room.id}`, tokens[role], { ...o.chaos }, lcg(o.seed * 977 + i));
      c.connect();
      clients.push({ c, role, visitId: room.visitId });
    }
    for (const room of rooms) {
      // One unmodified y-websocket provider per room, editing alongside the simulated ones.
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`${server.base.replace('http', 'ws')}/sync`, `patient:${room.id}`, doc, {
        params: { token: tokens.nurse }, WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true, maxBackoffTime: 300,
      });
      stock.push({ doc, provider, visitId: room.visitId, docName: `patient:${room.id}` });
    }
    await waitFor(() => clients.every((x) => x.c.synced) && stock.every((s) => s.provider.synced), 30_000, 'initial sync');

    let edits = 0;
    let disconnects = 0;
    const restartAt = Array.from({ length: o.restarts }, (_, i) => ((i + 1) * o.durationMs) / (o.restarts + 1));
    const t0 = Date.now();
    let restarted = 0;
    while (Date.now() - t0 < o.durationMs) {
      for (let k = 0; k < 3; k++) {
        const x = clients[Math.floor(rand() * clients.length)]!;
        if (x.c.synced) x.c.edit(`e${edits}`, (doc) => randomEdit(doc, x.visitId, x.role, rand)), edits++;
      }
      const s = stock[Math.floor(rand() * stock.length)]!;
      if (s.provider.synced && rand() < 0.3) (randomEdit(s.doc, s.visitId, 'nurse', rand), edits++);
      if (rand() < o.disconnect) (clients[Math.floor(rand() * clients.length)]!.c.drop(), disconnects++);
      if (restarted < restartAt.length && Date.now() - t0 >= restartAt[restarted]!) {
        await server.restart();
        restarted++;
        log(`restart ${restarted}/${o.restarts} after ${edits} edits`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    // Quiet the network and let everyone resync once over a clean connection.
    for (const x of clients) {
      x.c.chaos = null;
      x.c.drop();
    }
    await waitFor(() => clients.every((x) => x.c.synced) && stock.every((s) => s.provider.synced), 30_000, 'final resync');
    const diverged: string[] = [];
    let converged = false;
    const deadline = Date.now() + 20_000;
    while (!converged && Date.now() < deadline) {
      diverged.length = 0;
      for (const room of rooms) {
        const name = `patient:${room.id}`;
        const server_ = await readDoc(server.base, name, tokens.nurse);
        if (server_.store.pendingStructs || server_.store.pendingDs) diverged.push(`${name}: server copy has pending structs`);
        const check = (who: string, doc: Y.Doc): void => {
          const d = docDiff(doc, server_);
          if (d) diverged.push(`${name}: ${who}: ${d}`);
        };
        clients.forEach((x, i) => x.c.docName === name && check(`client ${i}`, x.c.doc));
        stock.forEach((s) => s.docName === name && check('stock client', s.doc));
        server_.destroy();
      }
      converged = diverged.length === 0;
      if (!converged) await new Promise((r) => setTimeout(r, 200));
    }
    const pending = clients.some((x) => x.c.hasPending()) || stock.some((s) => s.doc.store.pendingStructs !== null || s.doc.store.pendingDs !== null);
    return { edits, restarts: restarted, disconnects, converged, pending, diverged };
  } finally {
    for (const s of stock) s.provider.destroy();
    await Promise.all(clients.map((x) => x.c.stop()));
    await server.stop();
  }
}
