// Starts a real Pamoja server (real SQLite file, real WebSocket server) on a free port for a test.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { startServer, type RunningServer, type Config } from '../../apps/sync-server/src/index.js';

export function tempDir(prefix = 'pamoja-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function testServer(overrides: Partial<Config> = {}): Promise<RunningServer> {
  return startServer({
    port: 0, host: '127.0.0.1', dataDir: tempDir(), logLevel: 'silent', unloadDelayMs: 100, ...overrides,
  });
}

export async function login(base: string, username: string, password = 'demo'): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export async function api<T = unknown>(base: string, token: string | null, method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export const wsUrl = (base: string): string => `${base.replace(/^http/, 'ws')}/sync`;

/** Opens a raw WebSocket: resolves with it once open, or with the HTTP status and body of a refused upgrade. */
export function tryUpgrade(url: string): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (e) => reject(e));
  });
}

/** A stock y-websocket client, unmodified. */
export function stockClient(base: string, docName: string, token: string, params: Record<string, string> = {}, doc = new Y.Doc()): { doc: Y.Doc; provider: WebsocketProvider } {
  const provider = new WebsocketProvider(wsUrl(base), docName, doc, {
    params: { token, ...params }, WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true,
  });
  return { doc, provider };
}

export function synced(provider: WebsocketProvider, timeoutMs = 10_000): Promise<void> {
  if (provider.synced) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('not synced in time')), timeoutMs);
    provider.once('sync', (s: boolean) => {
      if (s) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function firstPatient(base: string, token: string): Promise<{ id: string; visitId: string }> {
  const r = await api<{ id: string; visitId: string }[]>(base, token, 'GET', '/api/patients');
  return r.body[0]!;
}

/** Registers a patient as the demo receptionist; returns the new record's id and open visit. */
export async function registerTestPatient(
  base: string, who: { firstName: string; lastName: string; sex: string; dateOfBirth: string; phone?: string },
): Promise<{ id: string; visitId: string; opNumber: string }> {
  const r = await api<{ id: string; visitId: string; opNumber: string }>(base, await login(base, 'reception'), 'POST', '/api/patients', who);
  if (r.status !== 201) throw new Error(`registration failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Signs in as `username` and connects a stock client to `docName`, synced. */
export async function connectStock(base: string, docName: string, username: string): Promise<{ doc: Y.Doc; provider: WebsocketProvider }> {
  const c = stockClient(base, docName, await login(base, username));
  await synced(c.provider);
  return c;
}
