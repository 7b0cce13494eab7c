// How much may wait unsent for one connection (Conn.admit), on real sockets: a message of any size
// goes whole, with the cap's worth of others beyond it; past that the connection is closed with
// 4503; writes held by a cork are not held against a client that reads.

import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Account, Conn } from '../../apps/sync-server/src/sync/conn.js';
import { CLOSE, updateBroadcast } from '../../apps/sync-server/src/sync/protocol.js';
import type { Actor } from '../../apps/sync-server/src/gate/actor.js';
import { until } from '../helpers/server.js';

const NURSE: Actor = { userId: 'u1', username: 'nurse', name: 'Sarah Achieng', role: 'NURSE', device: null, ip: null, userAgent: null };
/** The hub reads frames up to twice MAX_FRAME_BYTES; the cap is that (here 512 KB). */
const MAX_PAYLOAD = 512 * 1024;
const KB = 1024;

let server: WebSocketServer;
let conn: Conn;
let client: WebSocket;
let received: number[];
let closed: Promise<{ code: number; reason: string }>;

beforeEach(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: MAX_PAYLOAD });
  await new Promise((r) => server.once('listening', r));
  const accepted = new Promise<WebSocket>((r) => server.once('connection', r));
  client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`);
  received = [];
  client.on('message', (data: Buffer) => received.push(data.length));
  closed = new Promise((r) => client.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  conn = new Conn(await accepted, NURSE, 'token-hash', true, 1000, 1000);
  await new Promise((r) => client.once('open', r));
});
afterEach(async () => {
  client.terminate();
  await new Promise((r) => server.close(r));
});

const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

describe('what may wait unsent for one connection', () => {
  it('is the cap beyond the largest message: a record far over the cap goes whole to a client not reading', async () => {
    expect(conn.maxUnsentBytes).toBe(MAX_PAYLOAD);
    socketOf(client).pause();
    // More than loopback's socket buffers take (about 4.5 MB here), so most of it waits in the server.
    const record = new Uint8Array(8 * 1024 * KB);
    conn.send(record);
    expect(conn.ws.bufferedAmount).toBeGreaterThan(2 * MAX_PAYLOAD);
    // The room goes on sending; up to the cap beyond the record may wait, checked before each one.
    const sent: number[] = [];
    let most = 0;
    for (let i = 0; i < 2000 && conn.ws.readyState === WebSocket.OPEN; i++) {
      most = Math.max(most, conn.ws.bufferedAmount);
      conn.sendBroadcast(updateBroadcast(new Uint8Array(16 * KB)));
      if (conn.ws.readyState === WebSocket.OPEN) sent.push(16 * KB);
    }
    expect(conn.ws.readyState).not.toBe(WebSocket.OPEN);
    expect(sent.length).toBeGreaterThanOrEqual(MAX_PAYLOAD / (16 * KB));
    expect(most).toBeLessThanOrEqual(record.length + MAX_PAYLOAD + 16 * KB + 64);
    // Once it reads again: the record whole, everything queued after it, then the reason.
    socketOf(client).resume();
    const { code, reason } = await closed;
    expect(code).toBe(CLOSE.tooFarBehind);
    expect(reason).toMatch(/^Too far behind: \d+\.\d MB unsent, over 0\.5 MB beyond the largest message; reconnect$/);
    expect(received[0]).toBe(record.length);
    expect(received.length).toBe(1 + sent.length);
  });

  it('is judged after a cork by what waits: a batch larger than the cap is not held against a client that reads, and is against one that does not', async () => {
    conn.cork();
    for (let i = 0; i < 40; i++) conn.sendBroadcast(updateBroadcast(new Uint8Array(64 * KB)));
    expect(conn.ws.bufferedAmount).toBeGreaterThan(4 * MAX_PAYLOAD);
    conn.uncork();
    expect(conn.ws.readyState).toBe(WebSocket.OPEN);
    await until(() => received.length === 40, 5000, 'the batch read');
    conn.send(new Uint8Array(10));
    await until(() => received.length === 41, 5000, 'the next message read');
    expect(conn.ws.readyState).toBe(WebSocket.OPEN);
    // The same, 10 MB, to a client that has stopped reading: the next message finds it too far behind.
    socketOf(client).pause();
    conn.cork();
    for (let i = 0; i < 160; i++) conn.sendBroadcast(updateBroadcast(new Uint8Array(64 * KB)));
    conn.uncork();
    expect(conn.ws.readyState).toBe(WebSocket.OPEN);
    conn.send(new Uint8Array(10));
    expect(conn.ws.readyState).toBe(WebSocket.CLOSING);
  });

  it('starts again from the next message once everything waiting has gone', async () => {
    // A large message, read: the allowance it gave does not stay for a client that later stops reading.
    conn.send(new Uint8Array(6 * 1024 * KB));
    await until(() => received.length === 1 && conn.ws.bufferedAmount === 0, 5000, 'the large message read');
    socketOf(client).pause();
    let most = 0;
    for (let i = 0; i < 500 && conn.ws.readyState === WebSocket.OPEN; i++) {
      conn.send(new Uint8Array(64 * KB));
      most = Math.max(most, conn.ws.bufferedAmount);
    }
    expect(conn.ws.readyState).not.toBe(WebSocket.OPEN);
    expect(most).toBeLessThanOrEqual(MAX_PAYLOAD + 2 * 64 * KB + 64);
  });
});

describe('what may wait unsent for one person\'s connections together', () => {
  it('is bounded too: past it, the connection furthest behind is closed with a reason, and the others go on', async () => {
    const account = new Account(40 * 1024 * KB);
    const port = (server.address() as { port: number }).port;
    const pairs: { conn: Conn; client: WebSocket; closed: Promise<{ code: number; reason: string }> }[] = [];
    for (let i = 0; i < 4; i++) {
      const accepted = new Promise<WebSocket>((r) => server.once('connection', r));
      const c = new WebSocket(`ws://127.0.0.1:${port}`);
      c.on('error', () => {});
      const closedP = new Promise<{ code: number; reason: string }>((r) => c.on('close', (code, reason) => r({ code, reason: reason.toString() })));
      const sc = new Conn(await accepted, NURSE, 'token-hash', true, 1000, 1000, account);
      account.add(sc);
      await new Promise((r) => c.once('open', r));
      socketOf(c).pause();
      pairs.push({ conn: sc, client: c, closed: closedP });
    }
    // A large record to each of four tablets on one login that have stopped reading: 11.5-16 MB of
    // each waits in the server (loopback may take the rest), 46-64 MB in all, over the 40 MB bound.
    const record = new Uint8Array(16 * 1024 * KB);
    for (const p of pairs) p.conn.send(record);
    for (const p of pairs) p.conn.send(new Uint8Array(10));
    const open = pairs.filter((p) => p.conn.ws.readyState === WebSocket.OPEN);
    expect(open.length).toBeGreaterThanOrEqual(2);
    expect(open.length).toBeLessThan(4);
    const waiting = open.reduce((n, p) => n + p.conn.ws.bufferedAmount, 0);
    expect(waiting).toBeLessThanOrEqual(40 * 1024 * KB + record.length);
    const cut = pairs.find((p) => p.conn.ws.readyState !== WebSocket.OPEN)!;
    socketOf(cut.client).resume();
    const { code, reason } = await cut.closed;
    expect(code).toBe(CLOSE.tooFarBehind);
    expect(reason).toMatch(/^Too far behind: \d+\.\d MB unsent to this account's connections, over 40\.0 MB; reconnect$/);
    // The others take in their records whole.
    for (const p of open) {
      let got = 0;
      p.client.on('message', (data: Buffer) => (got += data.length));
      socketOf(p.client).resume();
      await until(() => got === record.length + 10, 5000, 'the record read');
      expect(p.conn.ws.readyState).toBe(WebSocket.OPEN);
    }
    for (const p of pairs) {
      account.remove(p.conn);
      p.client.terminate();
    }
  });
});
