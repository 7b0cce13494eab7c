// One account may hold only so many open connections at once (MAX_CONNECTIONS_PER_USER), so a stolen
// or misused token cannot take the server's memory by opening connections to every record. Past the
// limit an upgrade is refused with 429 and a reason, and audited; everyone else goes on, and the
// account gets its places back as its connections close.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { docNameFor } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, connectStock, login, testServer, tryUpgrade, until, wsUrl } from '../helpers/server.js';
import { DENIALS_BURST } from '../../apps/sync-server/src/audit/denials.js';

const LIMIT = 5;
let srv: RunningServer;
let nurse: string;
let records: string[];

beforeAll(async () => {
  srv = await testServer({ maxConnectionsPerUser: LIMIT });
  nurse = await login(srv.url, 'nurse');
  records = (await api<{ id: string }[]>(srv.url, nurse, 'GET', '/api/patients')).body.map((p) => docNameFor(p.id));
});
afterAll(async () => {
  await srv.close();
});

const open = (docName: string, token: string): ReturnType<typeof tryUpgrade> =>
  tryUpgrade(`${wsUrl(srv.url)}/${docName}?token=${encodeURIComponent(token)}`);

const nurseConnections = (): number => srv.hub.connections().filter((c) => c.actor.username === 'nurse').length;

describe('connections per account', () => {
  it('past the limit an upgrade is refused with a reason and audited; others still connect; a closed one frees its place', async () => {
    const held: WebSocket[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const r = await open(records[i % records.length]!, nurse);
      expect('ws' in r).toBe(true);
      if ('ws' in r) held.push(r.ws);
    }
    const refused = await open(records[0]!, nurse);
    expect(refused).toEqual({ status: 429, body: `Too many connections for this account (at most ${LIMIT} at once)` });
    srv.ctx.queue.flush();
    const row = srv.ctx.db.prepare("SELECT username, outcome, path, detail FROM audit WHERE action = 'CONNECT' AND outcome = 'denied' ORDER BY id DESC LIMIT 1").get();
    expect(row).toEqual({ username: 'nurse', outcome: 'denied', path: records[0], detail: `over ${LIMIT} open connections for this account (from 127.0.0.1)` });

    // A colleague is not held back by the nurse's connections, and syncs.
    const clinician = await connectStock(srv.url, records[0]!, 'clinician');
    expect(clinician.provider.wsconnected).toBe(true);
    clinician.provider.destroy();

    // The nurse closes one tab: its place is free again.
    held.pop()!.close();
    await until(() => nurseConnections() === LIMIT - 1, 5000, 'the server to see the tab closed');
    const again = await open(records[1]!, nurse);
    expect('ws' in again).toBe(true);
    if ('ws' in again) held.push(again.ws);
    for (const ws of held) ws.close();
    await until(() => nurseConnections() === 0, 5000, 'all closed');
  });

  it('a flood of upgrades with a bad token is refused, and audited one by one only up to a burst; the rest are counted', async () => {
    const deniedRows = (): { detail: string }[] => {
      srv.ctx.queue.flush();
      return srv.ctx.db.prepare("SELECT detail FROM audit WHERE action = 'CONNECT' AND outcome = 'denied' ORDER BY id").all() as { detail: string }[];
    };
    // Every refusal in this file comes from 127.0.0.1 and shares its budget (the test above used one).
    const before = deniedRows().length;
    const refusedBefore = srv.ctx.metrics.connectionsRefused;
    const results = await Promise.all(Array.from({ length: 500 }, () => open(records[0]!, 'not-a-token')));
    expect(results.every((r) => 'status' in r && r.status === 401)).toBe(true);
    expect(srv.ctx.metrics.connectionsRefused - refusedBefore).toBe(500);
    const rows = deniedRows().slice(before);
    expect(before + rows.length).toBe(DENIALS_BURST);
    expect(rows[0]!.detail).toBe('missing, bad, expired or revoked token (from 127.0.0.1)');
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });

  it('a burst of upgrades at once gets exactly the limit in, the rest refused, and the server answers throughout', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => open(records[i % records.length]!, nurse)));
    const accepted = results.filter((r): r is { ws: WebSocket } => 'ws' in r);
    expect(accepted).toHaveLength(LIMIT);
    expect(results.filter((r) => 'status' in r && r.status === 429)).toHaveLength(60 - LIMIT);
    expect(nurseConnections()).toBe(LIMIT);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    for (const r of accepted) r.ws.close();
    await until(() => nurseConnections() === 0, 5000, 'all closed');
  });
});
