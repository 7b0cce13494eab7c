// HTTP calls to the Pamoja server: JSON in and out, the session's Bearer token, errors as sentences.
import { getSession, setSession, type Session } from './session.js';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly body: unknown = null) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const session = getSession();
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        ...(session ? { authorization: `Bearer ${session.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'No connection to the clinic server');
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const msg = (data as { error?: string } | null)?.error ?? `The server answered ${res.status}`;
    // A revoked or expired token: the person must sign in again.
    if (res.status === 401 && session && path !== '/api/auth/login') setSession(null);
    throw new ApiError(res.status, msg, data);
  }
  return data as T;
}

export function deviceName(): string {
  let id = localStorage.getItem('pamoja:device');
  if (!id) {
    id = `web-${Math.random().toString(36).slice(2, 10)}`;
    localStorage.setItem('pamoja:device', id);
  }
  return id;
}

export async function signIn(username: string, password: string): Promise<Session> {
  const s = await api<Session>('POST', '/api/auth/login', { username, password, device: deviceName() });
  setSession(s);
  return s;
}

/** Revokes the token on the server when reachable; the device forgets it either way. */
export async function signOut(): Promise<void> {
  try {
    await api('POST', '/api/auth/logout');
  } catch {
    // Offline: the token expires on its own; it is gone from this device now.
  }
  setSession(null);
}
