// The HTTP API's edges: odd bodies, paths and values get a clear 4xx and change nothing; races between
// requests (two administrators, a double click) give one answer each; password guessing is slowed;
// requests still being handled when the server stops finish with their writes saved.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { MAX_BODY_BYTES } from '../../apps/sync-server/src/server.js';
import { api, login, testServer, until } from '../helpers/server.js';

let srv: RunningServer;
let reception: string;
let nurse: string;
let admin: string;
let patientId: string;

beforeAll(async () => {
  srv = await testServer();
  reception = await login(srv.url, 'reception');
  nurse = await login(srv.url, 'nurse');
  admin = await login(srv.url, 'admin');
  patientId = (await api<{ id: string }[]>(srv.url, reception, 'GET', '/api/patients')).body[0]!.id;
});
afterAll(async () => {
  await srv.close();
});

/** The status line of a request sent as raw bytes (fetch would re-encode the path). */
function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => (buf += d.toString('latin1')));
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(buf)?.[1] ?? 0)));
    s.on('error', reject);
    s.write(request);
  });
}

/** Sends `request` (perhaps only the start of one) and resolves with the start of the answer. */
function firstAnswer(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('}')) (s.destroy(), resolve(buf));
    });
    s.on('error', reject);
    s.write(request);
  });
}

async function postText(p: string, token: string | null, body: string): Promise<{ status: number; body: { error?: string } }> {
  const r = await fetch(`${srv.url}${p}`, {
    method: 'POST', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' }, body,
  });
  const text = await r.text();
  return { status: r.status, body: text.startsWith('{') ? JSON.parse(text) : { error: text } };
}

async function stillServes(): Promise<void> {
  expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  expect((await api(srv.url, reception, 'GET', '/api/patients')).status).toBe(200);
}

describe('bad input gets a clear 4xx', () => {
  it('a page path that is not valid percent-encoding is 400, not a server error', async () => {
    for (const p of ['/%', '/%E0%A4%A', '/assets/%zz', '/patients/%E0']) {
      expect(await rawStatus(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), p).toBe(400);
    }
    await stillServes();
  });

  it('a conflict pick or a return visit whose body is JSON but not an object is 400 and changes nothing', async () => {
    const before = (await api<{ visits: unknown[] }>(srv.url, reception, 'GET', `/api/patients/${patientId}`)).body;
    for (const body of ['5', '"value"', 'true', '[]', 'null', '{}']) {
      const r = await postText(`/api/patients/${patientId}/conflicts/c1/resolve`, nurse, body);
      expect(r.status, body).toBe(400);
      expect(r.body.error, body).toMatch(/must be a JSON object|value: is required/);
    }
    for (const body of ['null', '7', '"x"', '[1]', '{"paymentType":"GOLD"}', '{']) {
      const r = await postText(`/api/patients/${patientId}/visits`, reception, body);
      expect(r.status, body).toBe(400);
    }
    expect((await api(srv.url, reception, 'GET', `/api/patients/${patientId}`)).body).toEqual(before);
    await stillServes();
  });

  it(`a body over ${MAX_BODY_BYTES / 1024} KB is refused with 413 before it is read, signed in or not`, async () => {
    // 8 MB announced, 1 KB sent: the answer comes without waiting for the rest.
    const declared = await firstAnswer(srv.port, `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${8 * MAX_BODY_BYTES}\r\n\r\n{"username":"${'x'.repeat(1000)}`);
    expect(declared).toMatch(/^HTTP\/1\.1 413[^]*over the limit/);
    // Without a length up front (chunked), it is counted as it arrives: refused once past the limit.
    const chunk = ' '.repeat(MAX_BODY_BYTES / 2);
    const chunked = await firstAnswer(srv.port, `POST /api/patients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${reception}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${`${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(3)}`);
    expect(chunked).toMatch(/^HTTP\/1\.1 413[^]*over the limit/);
    // A body just under the limit is read and judged on what it says.
    const near = await postText('/api/auth/login', null, JSON.stringify({ username: 'nurse', password: 'demo', pad: ' '.repeat(MAX_BODY_BYTES - 100) }));
    expect(near.status).toBe(200);
    await stillServes();
  });

  it('a date of birth that does not exist is refused, a leap day that does is kept', async () => {
    for (const dateOfBirth of ['2023-02-29', '2023-04-31', '2021-02-30', '2020-13-01']) {
      const r = await api<{ error: string }>(srv.url, reception, 'POST', '/api/patients', { firstName: 'Neva', lastName: 'Born', sex: 'female', dateOfBirth });
      expect(r.status, dateOfBirth).toBe(400);
      expect(r.body.error).toMatch(/dateOfBirth: must be a real date/);
    }
    const leap = await api(srv.url, reception, 'POST', '/api/patients', { firstName: 'Leap', lastName: 'Day', sex: 'female', dateOfBirth: '2020-02-29' });
    expect(leap.status).toBe(201);
  });

  it('a name without a letter, or with control characters, is refused; names in any script are kept', async () => {
    for (const firstName of ['\u0000', '\u200b', '\u0007\u0008', '\u202e', '42', 'Ann\u0000a', 'Ann\u202eA']) {
      const r = await api<{ error: string }>(srv.url, reception, 'POST', '/api/patients', { firstName, lastName: 'Ghost', sex: 'male', dateOfBirth: '1980-05-05', allowDuplicate: true });
      expect(r.status, JSON.stringify(firstName)).toBe(400);
      expect(r.body.error, JSON.stringify(firstName)).toMatch(/firstName: must (contain a letter|not contain control characters)/);
    }
    const r = await api<{ error: string }>(srv.url, reception, 'POST', '/api/patients', { firstName: 'Ann', lastName: 'Ghost', sex: 'male', dateOfBirth: '1980-05-05', otherNames: 'a\u0007b' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/otherNames: must not contain control characters/);
    for (const [firstName, lastName] of [['Zoë', 'محمد'], ['Wanjirũ', 'Ng\u0303ang\u0303a'], ['अनु', 'Öztürk']]) {
      const ok = await api<{ id: string }>(srv.url, reception, 'POST', '/api/patients', { firstName, lastName, sex: 'female', dateOfBirth: '1991-03-04' });
      expect(ok.status, firstName).toBe(201);
      expect((await api<{ firstName: string; lastName: string }>(srv.url, reception, 'GET', `/api/patients/${ok.body.id}`)).body).toMatchObject({ firstName, lastName });
    }
    const staff = await api<{ error: string }>(srv.url, admin, 'POST', '/admin/users', { username: 'blank.name', name: '\u200b', role: 'NURSE', password: 'longenough' });
    expect(staff.status).toBe(400);
    expect(staff.body.error).toMatch(/name: must contain a letter/);
  });

  it('a notification page size that is not a whole number from 1 to 500 is 400', async () => {
    for (const limit of ['1.5', '0', '-1', 'abc', '501']) {
      const r = await api<{ error: string }>(srv.url, nurse, 'GET', `/api/notifications?limit=${limit}`);
      expect(r.status, limit).toBe(400);
      expect(r.body.error).toMatch(/limit: /);
    }
    expect((await api(srv.url, nurse, 'GET', '/api/notifications?limit=500')).status).toBe(200);
  });
});

describe('races between requests', () => {
  it('two administrators creating the same username at once: one is created, the others get 409', async () => {
    const body = { username: 'race.user', name: 'Race', role: 'CASHIER', password: 'longenough' };
    const rs = await Promise.all([0, 1, 2, 3].map(() => api<{ error?: string }>(srv.url, admin, 'POST', '/admin/users', body)));
    expect(rs.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    for (const r of rs.filter((x) => x.status === 409)) expect(r.body.error).toMatch(/"race.user" is taken/);
  });

  it('a refused edit of a user changes nothing, not even the fields before the refused one', async () => {
    const me = (await api<{ id: string; role: string; name: string }[]>(srv.url, admin, 'GET', '/admin/users')).body.find((u) => u.role === 'ADMIN')!;
    const audited = async (): Promise<number> => (await api<{ total: number }>(srv.url, admin, 'GET', '/admin/audit?action=USER_RENAME&limit=1')).body.total;
    const renames = await audited();
    for (const edit of [{ name: 'Renamed Anyway', role: 'NURSE' }, { name: 'Renamed Anyway', disabled: true }]) {
      const r = await api<{ error: string }>(srv.url, admin, 'PATCH', `/admin/users/${me.id}`, edit);
      expect(r.status).toBe(409);
      expect(r.body.error).toMatch(/last enabled administrator/);
    }
    expect((await api(srv.url, admin, 'GET', `/admin/users/${me.id}`)).body).toMatchObject({ name: me.name, role: 'ADMIN', disabled: false });
    expect(await audited()).toBe(renames);
    // Allowed, the same request is applied whole.
    const ok = await api(srv.url, admin, 'PATCH', `/admin/users/${me.id}`, { name: 'Head of IT' });
    expect(ok.body).toMatchObject({ name: 'Head of IT', role: 'ADMIN' });
  });

  it('backups asked for at once: one is written whole, the others are told one is running', async () => {
    // SQLite copies 100 pages per turn of the loop: with 4 MB more, a copy takes about ten turns.
    srv.ctx.db.exec('CREATE TABLE padding (x BLOB); INSERT INTO padding VALUES (zeroblob(4000000))');
    const names: string[] = [];
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(Array.from({ length: 8 }, () => api<{ name?: string; error?: string }>(srv.url, admin, 'POST', '/admin/backups')));
      expect(rs.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      for (const r of rs.filter((x) => x.status === 409)) expect(r.body.error).toMatch(/still being written/);
      names.push(rs.find((r) => r.status === 201)!.body.name!);
    }
    expect(new Set(names).size).toBe(3);
    const listed = (await api<{ dir: string; backups: { name: string; bytes: number }[] }>(srv.url, admin, 'GET', '/admin/backups')).body;
    expect(listed.backups.map((b) => b.name).sort()).toEqual([...names].sort());
    for (const name of names) {
      const dl = await fetch(`${srv.url}/admin/backups/${name}`, { headers: { authorization: `Bearer ${admin}` } });
      const bytes = Buffer.from(await dl.arrayBuffer());
      expect(bytes.subarray(0, 15).toString()).toBe('SQLite format 3');
      expect(bytes.length).toBe(listed.backups.find((b) => b.name === name)!.bytes);
    }
    // Nothing half-written is left beside them.
    expect(fs.readdirSync(listed.dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });
});

describe('password guessing', () => {
  it('after five wrong passwords for one username, sign-ins for it from that address wait, the right password too', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await api(srv.url, null, 'POST', '/api/auth/login', { username: 'lab', password: `guess${i}` })).status).toBe(401);
    }
    const r = await fetch(`${srv.url}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'LAB', password: 'demo' }),
    });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect(((await r.json()) as { error: string }).error).toMatch(/Too many wrong passwords.*try again in \d+ s/);
    // Other people at the same address still sign in.
    expect((await api(srv.url, null, 'POST', '/api/auth/login', { username: 'pharmacy', password: 'demo' })).status).toBe(200);
  });

  it('a burst of guesses sent at once is held to the same count', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => api(srv.url, null, 'POST', '/api/auth/login', { username: 'cashier', password: `burst${i}` })));
    const statuses = rs.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length, statuses.join(',')).toBe(5);
    expect(statuses.filter((s) => s === 429).length).toBe(15);
  });
});

describe('shutdown', () => {
  it('requests being handled when the server stops finish, and what they wrote is saved', async () => {
    const s = await testServer();
    const tok = await login(s.url, 'reception');
    // Counts the password checks that have started (the check itself runs as always).
    let checking = 0;
    const users = s.ctx.users;
    const authenticate = users.authenticate.bind(users);
    users.authenticate = (username, password) => (checking++, authenticate(username, password));
    const errors: unknown[] = [];
    const onErr = (e: unknown): void => void errors.push(e);
    process.on('uncaughtException', onErr);
    try {
      const registering = Array.from({ length: 10 }, (_, i) => fetch(`${s.url}/api/patients`, {
        method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
        body: JSON.stringify({ firstName: `Shut${i}`, lastName: 'Down', sex: 'male', dateOfBirth: '1999-09-09' }),
      }).then((r) => r.status, () => 0));
      // A wrong password takes tens of milliseconds to check (scrypt): these are still being checked
      // when close() is called, and each writes an audit row afterwards.
      const guessing = Array.from({ length: 4 }, (_, i) => fetch(`${s.url}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `nobody${i}`, password: 'wrong' }),
      }).then((r) => r.status, () => 0));
      await until(() => checking === 4, 5000, 'the wrong passwords being checked');
      await s.close();
      const registered = await Promise.all(registering);
      const guessed = await Promise.all(guessing);
      await new Promise((r) => setTimeout(r, 100));
      expect(errors).toEqual([]);
      const s2 = await testServer({ dataDir: s.ctx.config.dataDir });
      try {
        const t2 = await login(s2.url, 'reception');
        const listed = (await api<unknown[]>(s2.url, t2, 'GET', '/api/patients?q=down')).body.length;
        expect(listed).toBe(registered.filter((x) => x === 201).length);
        const a2 = await login(s2.url, 'admin');
        const denied = (await api<{ rows: { username: string }[] }>(s2.url, a2, 'GET', '/admin/audit?action=LOGIN&outcome=denied&limit=50')).body.rows;
        // Each was answered, and its audit row is on disk.
        expect(guessed).toEqual([401, 401, 401, 401]);
        expect(denied.filter((r) => r.username.startsWith('nobody')).map((r) => r.username).sort()).toEqual(['nobody0', 'nobody1', 'nobody2', 'nobody3']);
      } finally {
        await s2.close();
      }
    } finally {
      process.off('uncaughtException', onErr);
    }
  });
});
