// Every admin endpoint: 401 without a token, 403 for a non-admin, and a 4xx with a clear message for bad input.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, testServer } from '../helpers/server.js';

let srv: RunningServer;
let admin: string;
let nurse: string;
let patientId: string;
let nurseId: string;

beforeAll(async () => {
  srv = await testServer();
  admin = await login(srv.url, 'admin');
  nurse = await login(srv.url, 'nurse');
  patientId = (await api<{ id: string }[]>(srv.url, admin, 'GET', '/api/patients')).body[0]!.id;
  nurseId = (await api<{ id: string; username: string }[]>(srv.url, admin, 'GET', '/admin/users')).body.find((u) => u.username === 'nurse')!.id;
});
afterAll(async () => {
  await srv.close();
});

/** [method, path, a valid body or undefined, what the admin gets] for every endpoint. */
const endpoints = (): [string, string, unknown, number][] => [
  ['GET', '/admin/users', undefined, 200],
  ['POST', '/admin/users', { username: 'newclerk', name: 'New Clerk', role: 'RECEPTIONIST', password: 'longenough' }, 201],
  ['GET', `/admin/users/${nurseId}`, undefined, 200],
  ['PATCH', `/admin/users/${nurseId}`, { name: 'Sarah A.' }, 200],
  ['POST', `/admin/users/${nurseId}/password`, { password: 'demo-demo', signOut: false }, 200],
  ['GET', '/admin/live', undefined, 200],
  ['GET', `/admin/docs/patient:${patientId}`, undefined, 200],
  ['POST', `/admin/docs/patient:${patientId}/compact`, undefined, 200],
  ['POST', '/admin/connections/999999/disconnect', {}, 404],
  ['GET', '/admin/metrics', undefined, 200],
  ['GET', '/admin/audit', undefined, 200],
  ['GET', '/admin/audit/export', undefined, 200],
  ['GET', '/admin/audit/verify', undefined, 200],
  ['GET', `/admin/patients/${patientId}/history`, undefined, 200],
  ['POST', '/admin/backups', undefined, 201],
  ['GET', '/admin/backups', undefined, 200],
  ['GET', '/admin/backups/pamoja-2026-01-01T00-00-00-000Z.sqlite', undefined, 404],
];

async function raw(method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
  return fetch(`${srv.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('admin access', () => {
  it('answers 401 without a token and 403 for a nurse on every admin endpoint, and changes nothing', async () => {
    const before = (await api<{ rows: unknown[]; total: number }>(srv.url, admin, 'GET', '/admin/audit?action=USER_CREATE')).body.total;
    for (const [method, path, body] of endpoints()) {
      const anon = await raw(method, path, null, body);
      expect(anon.status, `${method} ${path} without token`).toBe(401);
      const asNurse = await raw(method, path, nurse, body);
      expect(asNurse.status, `${method} ${path} as nurse`).toBe(403);
      expect(((await asNurse.json()) as { error: string }).error).toMatch(/ADMIN/);
    }
    const after = (await api<{ total: number }>(srv.url, admin, 'GET', '/admin/audit?action=USER_CREATE')).body.total;
    expect(after).toBe(before);
    expect((await api<{ username: string }[]>(srv.url, admin, 'GET', '/admin/users')).body.map((u) => u.username)).not.toContain('newclerk');
  });

  it('lets the admin through on every endpoint', async () => {
    for (const [method, path, body, status] of endpoints()) {
      const r = await raw(method, path, admin, body);
      expect(r.status, `${method} ${path}`).toBe(status);
      await r.arrayBuffer();
    }
  });

  it('answers bad input with 400 and a message naming the problem', async () => {
    const bad: [string, string, unknown, RegExp][] = [
      ['POST', '/admin/users', { username: 'x', name: '', role: 'WIZARD', password: 'short' }, /username.*2 characters.*name.*required.*role.*one of.*password.*8 characters/s],
      ['POST', '/admin/users', { username: 'ok.user', name: 'Ok', role: 'NURSE', password: 'longenough', extra: 1 }, /extra/],
      ['PATCH', `/admin/users/${nurseId}`, {}, /at least one of name, role, disabled/],
      ['PATCH', `/admin/users/${nurseId}`, { role: 'SURGEON' }, /role: must be one of RECEPTIONIST/],
      ['PATCH', `/admin/users/${nurseId}`, { disabled: 'yes' }, /disabled/],
      ['POST', `/admin/users/${nurseId}/password`, { password: '123' }, /password: must be at least 8/],
      ['GET', '/admin/docs/notadoc', undefined, /docName: must look like patient:<id>/],
      ['POST', '/admin/connections/abc/disconnect', {}, /connId/],
      ['POST', '/admin/connections/5/disconnect', { revoke: 'please' }, /revoke/],
      ['GET', '/admin/audit?limit=0', undefined, /limit/],
      ['GET', '/admin/audit?limit=5000', undefined, /limit/],
      ['GET', '/admin/audit?outcome=maybe', undefined, /outcome: must be one of applied/],
      ['GET', '/admin/audit?from=yesterday', undefined, /from: must be an ISO 8601 time/],
      ['GET', '/admin/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', undefined, /from must not be after to/],
      ['GET', '/admin/audit?colour=red', undefined, /colour/],
      ['GET', '/admin/audit?action=drop table', undefined, /action: must be an action name/],
      ['GET', '/admin/audit/export?to=31/12/2026', undefined, /to: must be an ISO 8601 time/],
      ['GET', `/admin/patients/${patientId}/history?at=soon`, undefined, /at: must be an ISO 8601 time/],
      ['GET', '/admin/patients/bad%20id!/history', undefined, /id: is not a patient id/],
      ['GET', '/admin/backups/..%2F..%2Fpamoja.sqlite', undefined, /name: is not a backup file name/],
    ];
    for (const [method, path, body, message] of bad) {
      const r = await api<{ error: string }>(srv.url, admin, method, path, body);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.error, `${method} ${path}`).toMatch(message);
    }
    const notJson = await fetch(`${srv.url}/admin/users`, {
      method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toBe('The body must be JSON');
  });

  it('answers 404 for things that do not exist and 409 for what cannot be done', async () => {
    expect((await api(srv.url, admin, 'PATCH', '/admin/users/no-such-user', { name: 'X' })).status).toBe(404);
    expect((await api(srv.url, admin, 'GET', '/admin/docs/patient:nosuchpatient')).status).toBe(404);
    expect((await api(srv.url, admin, 'GET', '/admin/patients/nosuchpatient/history')).status).toBe(404);
    expect((await api(srv.url, admin, 'GET', '/admin/nothing-here')).status).toBe(404);
    const dup = await api<{ error: string }>(srv.url, admin, 'POST', '/admin/users', { username: 'nurse', name: 'Other', role: 'NURSE', password: 'longenough' });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatch(/taken/);
    const adminId = (await api<{ id: string; username: string }[]>(srv.url, admin, 'GET', '/admin/users')).body.find((u) => u.username === 'admin')!.id;
    const lastAdmin = await api<{ error: string }>(srv.url, admin, 'PATCH', `/admin/users/${adminId}`, { disabled: true });
    expect(lastAdmin.status).toBe(409);
    expect(lastAdmin.body.error).toMatch(/last enabled administrator/);
  });
});
