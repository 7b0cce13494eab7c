// A client cannot hold the server's sockets without using them: one that sends nothing, or only part
// of its headers, or part of a body, is closed (HTTP_IDLE_MS), and one idle after its answer by Node's
// keep-alive timeout; the server goes on
// answering everyone else, and real users (a WebSocket on a record, a request being answered) are
// not cut off.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docNameFor } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, connectStock, login, testServer } from '../helpers/server.js';

const IDLE_MS = 1200; // the first request must be whole within a quarter of it: 300 ms
let srv: RunningServer;

beforeAll(async () => {
  srv = await testServer({ httpIdleMs: IDLE_MS, heartbeatMs: 0 });
});
afterAll(async () => {
  await srv.close();
});

/** A raw TCP connection that sends `bytes` and then nothing; `closedAfter`: when the server closed it, in ms after it connected. */
function hold(bytes: string): { connected: Promise<void>; closedAfter: Promise<number>; received: () => string; socket: net.Socket } {
  let t0 = Date.now();
  let received = '';
  const socket = net.connect(srv.port, '127.0.0.1');
  const connected = new Promise<void>((resolve) => socket.once('connect', () => {
    t0 = Date.now();
    if (bytes) socket.write(bytes);
    resolve();
  }));
  socket.on('data', (d) => (received += d.toString()));
  socket.on('error', () => {});
  const closedAfter = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - t0)));
  return { connected, closedAfter, received: () => received, socket };
}

describe('idle sockets', () => {
  it('closes a connection that sends nothing, or half its headers, or half its body, within its bounds', async () => {
    const silent = hold('');
    const halfHeaders = hold('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const halfUpgrade = hold('GET /sync/patient:x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    const halfBody = hold('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user');
    for (const c of [silent, halfHeaders, halfUpgrade]) {
      const ms = await c.closedAfter;
      expect(ms).toBeGreaterThanOrEqual(IDLE_MS / 4 - 50);
      expect(ms).toBeLessThan(IDLE_MS);
    }
    // Its headers were whole: it has the longer bound, counted from the last byte.
    const ms = await halfBody.closedAfter;
    expect(ms).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(ms).toBeLessThan(3 * IDLE_MS);
  });

  it('closes a connection that trickles its headers, its upgrade or its body a byte at a time, within its bounds', async () => {
    // A byte every 100 ms keeps any idle timer from firing (the first request's bound is 300 ms).
    const trickle = (head: string, pad: string): { closedAfter: Promise<number> } => {
      const c = hold(head);
      let i = 0;
      const timer = setInterval(() => {
        if (!c.socket.destroyed) c.socket.write(pad[i++ % pad.length]!);
      }, 100);
      c.closedAfter.then(() => clearInterval(timer), () => clearInterval(timer));
      return c;
    };
    const headers = trickle('GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Padding: aaaaaaaaaaaaaaaaaaaa\r\n');
    const upgrade = trickle('GET /sync/patient:x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n', 'X-Padding: aaaaaaaaaaaaaaaaaaaa\r\n');
    const body = trickle('POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n', ' ');
    for (const c of [headers, upgrade]) expect(await c.closedAfter).toBeLessThan(IDLE_MS);
    // The whole request within IDLE_MS, checked every quarter of it.
    expect(await body.closedAfter).toBeLessThan(IDLE_MS + IDLE_MS / 4 + 1000);
  });

  it('closes a kept-alive connection idle after its answer (Node\'s keep-alive timeout, 5 s, applies there)', async () => {
    const c = hold('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await c.closedAfter;
    expect(c.received()).toMatch(/^HTTP\/1.1 200/);
    expect(ms).toBeLessThan(srv.http.keepAliveTimeout + 2000);
  });

  it('a thousand idle sockets hold up no one, and all of them are gone within the bound', async () => {
    const many = Array.from({ length: 1000 }, () => hold(''));
    // Timed once they are all held: a thousand connection attempts at once can overflow the kernel's
    // accept queue, and a request behind them then waits for TCP to try again, server or no server.
    await Promise.all(many.map((c) => c.connected));
    const t = Date.now();
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    expect(Date.now() - t).toBeLessThan(1000);
    // The clients never close these themselves: every one was closed by the server, within its bound
    // (a quarter of IDLE_MS) and the time a busy machine takes to get to a thousand timers.
    const closed = await Promise.all(many.map((c) => c.closedAfter));
    expect(Math.max(...closed)).toBeLessThan(2 * IDLE_MS);
  });

  it('does not cut off a WebSocket on a record, quiet for several bounds, nor a request being answered', async () => {
    const nurse = await login(srv.url, 'nurse');
    const patients = (await api<{ id: string }[]>(srv.url, nurse, 'GET', '/api/patients')).body;
    const c = await connectStock(srv.url, docNameFor(patients[0]!.id), 'nurse');
    let reconnects = 0;
    c.provider.on('status', (e: { status: string }) => e.status === 'connecting' && reconnects++);
    await new Promise((r) => setTimeout(r, 3 * IDLE_MS));
    expect(c.provider.wsconnected).toBe(true);
    expect(reconnects).toBe(0);
    c.provider.destroy();
    // A backup (the one request that may rightly be silent for long) is answered.
    const admin = await login(srv.url, 'admin');
    const r = await api<{ name: string }>(srv.url, admin, 'POST', '/admin/backups');
    expect(r.status).toBe(201);
  });
});
