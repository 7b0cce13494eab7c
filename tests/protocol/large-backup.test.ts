// A clinic's database after some years: a backup that takes longer to write than HTTP_IDLE_MS lets a
// socket sit silent is still answered, and downloading it streams from the disk, so the server never
// holds the whole file in memory (Node would refuse one over 2 GiB) and a download abandoned halfway
// lets go of the file.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, testServer, until } from '../helpers/server.js';

const IDLE_MS = 400;
const PADDING_BYTES = 160 * 1024 * 1024;
let srv: RunningServer;
let admin: string;

beforeAll(async () => {
  srv = await testServer({ httpIdleMs: IDLE_MS, heartbeatMs: 0 });
  admin = await login(srv.url, 'admin');
  // Incompressible, so the copy and the download both move every byte.
  srv.ctx.db.exec('CREATE TABLE padding (x BLOB)');
  const put = srv.ctx.db.prepare('INSERT INTO padding VALUES (?)');
  for (let i = 0; i < PADDING_BYTES / (4 << 20); i++) put.run(crypto.randomBytes(4 << 20));
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(srv.ctx.config.dataDir, { recursive: true, force: true });
});

/** Descriptors of this process open on `file`. */
function openOn(file: string): number {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

describe('a large backup', () => {
  let name = '';
  let file = '';

  it('is written and answered although writing it takes longer than the idle bound', async () => {
    const r = await api<{ name: string; file: string; bytes: number; ms: number }>(srv.url, admin, 'POST', '/admin/backups');
    expect(r.status).toBe(201);
    // Silent for longer than a socket may be: without lifting the bound the request would be cut.
    expect(r.body.ms).toBeGreaterThan(IDLE_MS);
    expect(r.body.bytes).toBeGreaterThan(PADDING_BYTES);
    ({ name, file } = r.body);
  });

  it('downloads as a stream: byte for byte the file, never held whole in the server', async () => {
    const res = await fetch(`${srv.url}/admin/backups/${name}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(fs.statSync(file).size);
    const reader = res.body!.getReader();
    const hash = crypto.createHash('sha256');
    const first = await reader.read();
    hash.update(first.value!);
    // The client holds back after its first chunk: the server has read only what the socket can take.
    await new Promise((r) => setTimeout(r, 200));
    expect(process.memoryUsage().arrayBuffers).toBeLessThan(PADDING_BYTES / 2);
    let received = first.value!.length;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      received += value.length;
    }
    expect(received).toBe(fs.statSync(file).size);
    expect(hash.digest('hex')).toBe(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    await until(() => openOn(file) === 0, 5000, 'the backup file closed after the download');
  });

  it('a download abandoned halfway closes the file, and the server goes on', async () => {
    const abort = new AbortController();
    const res = await fetch(`${srv.url}/admin/backups/${name}`, { headers: { authorization: `Bearer ${admin}` }, signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    expect(openOn(path.resolve(file))).toBe(1);
    abort.abort();
    await until(() => openOn(file) === 0, 5000, 'the backup file closed after the client left');
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });
});
