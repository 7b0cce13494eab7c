// Close reasons reach people ("Malformed update: ..."): ws refuses any over the protocol's 123 bytes,
// and a refused close would leave the bad connection open and throw inside the server.

import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { closeReason } from '../../apps/sync-server/src/sync/conn.js';

describe('close reasons', () => {
  const cases = [
    'short and plain',
    'a'.repeat(122) + 'é', // a two-byte character across the limit: cutting bytes leaves a 3-byte replacement
    'x'.repeat(121) + '🩺 and more', // a surrogate pair across the limit
    'Wanjiku’s change — '.repeat(20),
    'z'.repeat(500),
  ];

  it('fit in 123 bytes, cut at a whole character, and keep whatever already fits', () => {
    for (const r of cases) {
      const out = closeReason(r);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(123);
      expect(r.startsWith(out)).toBe(true);
      expect(out).not.toMatch(/[\ud800-\udbff]$/);
      if (Buffer.byteLength(r) <= 123) expect(out).toBe(r);
      else expect(Buffer.byteLength(out)).toBeGreaterThan(118);
    }
  });

  it('are accepted by ws and arrive whole at the client', async () => {
    const server = new WebSocketServer({ port: 0 });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    for (const r of cases) {
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      const got = new Promise<string>((resolve) => client.on('close', (_code, reason) => resolve(reason.toString())));
      const ws = await new Promise<WebSocket>((resolve) => server.once('connection', resolve));
      ws.close(4400, closeReason(r));
      expect(await got).toBe(closeReason(r));
    }
    server.close();
  });
});
