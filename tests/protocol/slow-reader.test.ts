// What the server sends a connection waits in its memory until the client reads it. A connection
// that stops reading and keeps asking for the record (each sync step 1 is answered with all of it)
// is closed once too much waits for it, and cut after a short grace if it still does not read, so
// the server's memory stops growing; a tablet that is merely slow for a while is kept, and other
// rooms go on. Real server, real sockets: the client pauses its TCP socket to stop reading.

import v8 from 'node:v8';
import vm from 'node:vm';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { docNameFor, sectionOf, visitOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { BEHIND_GRACE_MS, type Conn } from '../../apps/sync-server/src/sync/conn.js';
import { CLOSE } from '../../apps/sync-server/src/sync/protocol.js';
import { connectStock, login, registerTestPatient, stockClient, synced, testServer, until, wsUrl } from '../helpers/server.js';
import { recordJson } from '../helpers/record.js';
import { RawClient } from '../helpers/raw-client.js';

// A full collection before each reading, so what is measured is what the server holds, not garbage.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heldBytes = (): number => {
  // Twice: V8 frees ArrayBuffers found dead by one collection in the background, and the next one
  // finishes that first.
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};

const MB = 1024 * 1024;
/** The reviewer's attack: about 190 sync step 1 messages a second, within the rate limit. */
const STEP1_PER_100MS = 19;
/** Sync step 1 with an empty state vector: "send me the whole record". */
const WHOLE_RECORD_PLEASE = new Uint8Array([0, 0, 1, 0]);

let srv: RunningServer;
let record: string;
let visitId: string;
let recordBytes: number;
let quiet: { id: string; visitId: string };

beforeAll(async () => {
  // Default limits: MAX_FRAME_BYTES 8 MiB, so 16 MiB may wait beyond the largest message.
  srv = await testServer();
  const p = await registerTestPatient(srv.url, { firstName: 'Slow', lastName: 'Reader', sex: 'female', dateOfBirth: '1990-01-01' });
  record = docNameFor(p.id);
  visitId = p.visitId;
  quiet = await registerTestPatient(srv.url, { firstName: 'Other', lastName: 'Room', sex: 'male', dateOfBirth: '1985-05-05' });
  // A record of about 91 KB, as in the report: a long assessment.
  const nurse = await connectStock(srv.url, record, 'nurse');
  (visitOf(nurse.doc, visitId)!.get('assessment') as Y.Text).insert(0, 'Patient reports '.repeat(5_600));
  await until(() => (visitOf(srv.hub.rooms.get(record)!.doc, visitId)!.get('assessment') as Y.Text).length === 16 * 5_600, 5000, 'the assessment stored');
  nurse.provider.destroy();
  recordBytes = Y.encodeStateAsUpdate(srv.hub.rooms.get(record)!.doc).length;
});
afterAll(async () => {
  await srv.close();
});

/** The server's side of a client's connection. */
function serverSide(ws: WebSocket): Conn {
  const port = socketOf(ws).localPort;
  const conn = srv.hub.connections().find((c) => socketOf(c.ws).remotePort === port);
  if (!conn) throw new Error('no such connection on the server');
  return conn;
}
const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

/** A client on the record that stops reading (a tablet on a dead link, or an attacker). */
async function nonReader(): Promise<{ ws: WebSocket; conn: Conn; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(`${wsUrl(srv.url)}/${record}?token=${await login(srv.url, 'nurse')}`);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {}); // its writes fail once the server cuts it
  await new Promise((resolve) => ws.once('open', resolve));
  const conn = serverSide(ws);
  socketOf(ws).pause();
  return { ws, conn, closed };
}

/**
 * A colleague on the record replacing the assessment with 100,000 characters (300 KB) every 30 ms
 * until told to stop: about 10 MB a second for everyone on the record to take in.
 */
async function colleagueTyping(): Promise<{ stop: () => void }> {
  const colleague = await connectStock(srv.url, record, 'nurse');
  const text = visitOf(colleague.doc, visitId)!.get('assessment') as Y.Text;
  let i = 0;
  const timer = setInterval(() => {
    colleague.doc.transact(() => {
      text.delete(0, text.length);
      text.insert(0, String.fromCharCode(0x4e00 + (i++ % 1000)).repeat(100_000));
    });
  }, 30);
  return {
    stop: () => {
      clearInterval(timer);
      colleague.provider.destroy();
    },
  };
}

/**
 * Samples what the server holds while `conn` falls behind: until a second after the server closed it
 * (within the grace, so the client can still read the close frame), or for 8 s if it never does.
 * Returns the most it held over `base`, the most it held once closed, and the most that waited for it.
 */
async function watch(base: number, conn: Conn): Promise<{ grewBy: number; grewByOnceClosed: number; waited: number }> {
  let grewBy = 0;
  let grewByOnceClosed = 0;
  let waited = 0;
  let closedAt = 0;
  for (const end = Date.now() + 8000; Date.now() < end && !(closedAt && Date.now() - closedAt > 1000);) {
    waited = Math.max(waited, conn.ws.bufferedAmount);
    const held = heldBytes() - base;
    grewBy = Math.max(grewBy, held);
    if (closedAt) grewByOnceClosed = Math.max(grewByOnceClosed, held);
    else if (conn.ws.readyState !== WebSocket.OPEN) closedAt = Date.now();
    await new Promise((r) => setTimeout(r, 100));
  }
  return { grewBy, grewByOnceClosed, waited };
}

describe('a connection that stops reading', () => {
  it('and keeps asking for the whole record is closed with 4429 after a few answers, and the server holds little for it', async () => {
    const base = heldBytes();
    const attacker = await nonReader();
    // About 190 requests a second, within the per-connection message rate: each was answered with
    // the whole record, and the server grew from 65 to 626 MB in 20 s.
    const flood = setInterval(() => {
      for (let i = 0; i < STEP1_PER_100MS && attacker.ws.readyState === attacker.ws.OPEN; i++) attacker.ws.send(WHOLE_RECORD_PLEASE);
    }, 100);
    try {
      await until(() => attacker.conn.ws.readyState !== WebSocket.OPEN, 5000, 'the server to close it');
      expect(attacker.conn.ws.bufferedAmount).toBeLessThanOrEqual(31 * (recordBytes + 16));
      expect(heldBytes() - base).toBeLessThan(4 * MB);
      socketOf(attacker.ws).resume();
      const closed = await attacker.closed;
      expect(closed).toEqual({ code: CLOSE.rateLimited, reason: 'Too many requests for the record; slow down' });
    } finally {
      clearInterval(flood);
    }
  });

  it('while colleagues edit is closed with 4503 and a reason once too much waits for it, and the server stops holding more; the log and the metrics say so', async () => {
    const warned = vi.spyOn(srv.ctx.log, 'warn');
    const behindBefore = srv.ctx.metrics.connectionsBehind;
    const base = heldBytes();
    const attacker = await nonReader();
    expect(attacker.conn.maxUnsentBytes).toBe(16 * MB); // twice MAX_FRAME_BYTES
    const typing = await colleagueTyping();
    try {
      const { grewBy, grewByOnceClosed, waited } = await watch(base, attacker.conn);
      expect(attacker.conn.ws.readyState).not.toBe(WebSocket.OPEN);
      // At most the cap and two of its largest messages waited for it, and nothing more was queued
      // once it was closed, though the colleague went on typing.
      expect(waited).toBeLessThanOrEqual(attacker.conn.maxUnsentBytes + 2 * MB);
      expect(grewBy).toBeLessThan(attacker.conn.maxUnsentBytes + 12 * MB);
      expect(grewByOnceClosed).toBeLessThanOrEqual(grewBy);
      // Reading again within the grace, it takes in what waited, then the close frame with the reason.
      socketOf(attacker.ws).resume();
      const closed = await attacker.closed;
      expect(closed.code).toBe(CLOSE.tooFarBehind);
      expect(closed.reason).toMatch(/^Too far behind: \d+\.\d MB unsent, over 16\.0 MB beyond the largest message; reconnect$/);
      // What the clinic's IT person sees: one warning naming who and which record, and a counter.
      const lines = warned.mock.calls.filter((c) => c[1] === 'connection closed: too far behind');
      expect(lines).toEqual([[expect.objectContaining({ user: 'nurse', doc: record, reason: closed.reason }), 'connection closed: too far behind']]);
      expect(srv.ctx.metrics.connectionsBehind).toBe(behindBefore + 1);
      const admin = await login(srv.url, 'admin');
      const scraped = await (await fetch(`${srv.url}/admin/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
      expect(scraped).toContain(`pamoja_connections_behind_total ${behindBefore + 1}\n`);
    } finally {
      typing.stop();
      warned.mockRestore();
    }
    await until(() => !srv.hub.connections().includes(attacker.conn), 2000, 'the connection gone from the server');
  });

  it('is cut after a short grace if it never reads again, and what waited for it is freed', async () => {
    const base = heldBytes();
    const attacker = await nonReader();
    const typing = await colleagueTyping();
    try {
      await until(() => attacker.conn.ws.readyState !== WebSocket.OPEN, 8000, 'the server to close it');
      const closedAt = Date.now();
      typing.stop();
      // No closing handshake with a client that does not read: the socket is cut, and its queue freed.
      await until(() => !srv.hub.connections().includes(attacker.conn), BEHIND_GRACE_MS + 1000, 'the socket cut');
      expect(Date.now() - closedAt).toBeGreaterThanOrEqual(BEHIND_GRACE_MS - 100);
      expect(attacker.conn.ws.bufferedAmount).toBe(0);
      // Reading again now, it finds its connection gone, without the close frame that waited.
      socketOf(attacker.ws).resume();
      expect((await attacker.closed).code).toBe(1006);
    } finally {
      typing.stop();
    }
    expect(heldBytes() - base).toBeLessThan(8 * MB);
  });

  it('while a tablet merely slow for a while on the same record is kept and ends holding the whole of it', async () => {
    const colleague = await connectStock(srv.url, record, 'nurse');
    const tablet = stockClient(srv.url, record, await login(srv.url, 'clinician'));
    await synced(tablet.provider);
    let closes = 0;
    tablet.provider.on('connection-close', () => closes++);
    const tabletWs = tablet.provider.ws as unknown as WebSocket;
    const tabletConn = serverSide(tabletWs);
    try {
      // The tablet's link stalls for 1.5 s while the colleague replaces the assessment 30 times,
      // 300 KB each: 9 MB, more than loopback's socket buffers take, so most of it waits in the server.
      socketOf(tabletWs).pause();
      const text = visitOf(colleague.doc, visitId)!.get('assessment') as Y.Text;
      let waited = 0;
      for (let i = 0; i < 30; i++) {
        colleague.doc.transact(() => {
          text.delete(0, text.length);
          text.insert(0, String.fromCharCode(0x5e00 + i).repeat(100_000));
        });
        colleague.provider.awareness.setLocalStateField('cursor', { at: i });
        await new Promise((r) => setTimeout(r, 50));
        waited = Math.max(waited, tabletConn.ws.bufferedAmount);
      }
      expect(waited).toBeGreaterThan(1 * MB); // what the cap is about did wait in the server
      socketOf(tabletWs).resume();
      const room = srv.hub.rooms.get(record)!;
      await until(() => (visitOf(tablet.doc, visitId)!.get('assessment') as Y.Text).toString().startsWith(String.fromCharCode(0x5e00 + 29)), 10_000, 'the tablet caught up');
      expect(recordJson(tablet.doc)).toEqual(recordJson(room.doc));
      expect(Y.encodeStateVector(tablet.doc)).toEqual(Y.encodeStateVector(room.doc));
      expect(closes).toBe(0);
      expect(tabletConn.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      tablet.provider.destroy();
      colleague.provider.destroy();
    }
  });

  it('while other rooms go on', async () => {
    const attacker = await nonReader();
    const typing = await colleagueTyping();
    const nurse = await connectStock(srv.url, docNameFor(quiet.id), 'nurse');
    try {
      // Edits in another room land, one after another, while the non-reader is dealt with.
      for (let i = 0; i < 20; i++) {
        sectionOf(nurse.doc, quiet.visitId, 'vitals')!.set('heartRate', 60 + i);
        await until(() => sectionOf(srv.hub.rooms.get(docNameFor(quiet.id))!.doc, quiet.visitId, 'vitals')!.get('heartRate') === 60 + i, 2000, 'the edit in the other room');
        await new Promise((r) => setTimeout(r, 100));
      }
      await until(() => attacker.conn.ws.readyState !== WebSocket.OPEN, 8000, 'the non-reader closed');
      expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    } finally {
      typing.stop();
      nurse.provider.destroy();
    }
    await until(() => !srv.hub.connections().includes(attacker.conn), BEHIND_GRACE_MS + 1000, 'the non-reader cut');
  });
});

describe('a reader asking for the whole record again and again', () => {
  it('is answered with the record as it is at each request: a change made in between is in the next answer', async () => {
    const token = await login(srv.url, 'clinician');
    const reader = new RawClient(srv.url, record, token);
    await reader.opened;
    // Twice the same question: the large answer is kept, and both are the same record.
    const first = await reader.fetchDoc();
    const second = await reader.fetchDoc();
    expect(recordJson(second)).toEqual(recordJson(first));
    // A colleague changes the record; the next answer must hold the change, not the kept one.
    const nurse = await connectStock(srv.url, record, 'nurse');
    sectionOf(nurse.doc, visitId, 'vitals')!.set('heartRate', 77);
    await until(() => sectionOf(srv.hub.rooms.get(record)!.doc, visitId, 'vitals')!.get('heartRate') === 77, 5000, 'the change stored');
    const third = await reader.fetchDoc();
    expect(sectionOf(third, visitId, 'vitals')!.get('heartRate')).toBe(77);
    expect(recordJson(third)).toEqual(recordJson(srv.hub.rooms.get(record)!.doc));
    nurse.provider.destroy();
    reader.close();
  });
});
