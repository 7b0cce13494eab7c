// Calls to the server's /admin API, typed as the server answers them.
import { api } from '../session/api.js';
import { getSession } from '../session/session.js';

export interface AdminUser {
  id: string;
  username: string;
  name: string;
  role: string;
  disabled: boolean;
  createdAt: string;
  connections: number;
}

export interface LiveClient {
  connId: number; docName: string; username: string; name: string; role: string;
  device: string | null; ip: string | null; since: string;
}

export interface DocStats {
  docName: string; connections: number; memoryBytes: number | null; snapshotBytes: number;
  logBytes: number; logRows: number; updatesSinceSnapshot: number | null;
}

export interface AuditRow {
  id: number; at: string; username: string | null; role: string | null; device: string | null; ip: string | null;
  patient_id: string | null; action: string; path: string | null; old_value: string | null; new_value: string | null;
  outcome: string; detail: string | null;
}

export interface FieldAsOf { path: string; kind: string; value: string | null; exact: boolean; note?: string; setAt?: string; setBy?: string | null }
export interface FieldChange { auditId: number; at: string; username: string | null; role: string | null; outcome: string; oldValue: string | null; newValue: string | null; detail: string | null }
export interface RecordHistory {
  at: string | null; exactness: string;
  fields: FieldAsOf[];
  changes: { path: string; kind: string; changes: FieldChange[] }[];
}

export const adminApi = {
  users: () => api<AdminUser[]>('GET', '/admin/users'),
  createUser: (u: { username: string; name: string; role: string; password: string }) => api<AdminUser>('POST', '/admin/users', u),
  editUser: (id: string, edit: { name?: string; role?: string; disabled?: boolean }) => api<AdminUser>('PATCH', `/admin/users/${encodeURIComponent(id)}`, edit),
  resetPassword: (id: string, password: string) => api<{ revokedSessions: number }>('POST', `/admin/users/${encodeURIComponent(id)}/password`, { password }),
  live: () => api<{ documents: DocStats[]; clients: LiveClient[] }>('GET', '/admin/live'),
  compact: (docName: string) => api<DocStats>('POST', `/admin/docs/${encodeURIComponent(docName)}/compact`),
  disconnect: (connId: number, revoke: boolean) => api('POST', `/admin/connections/${connId}/disconnect`, { revoke }),
  audit: (q: URLSearchParams) => api<{ rows: AuditRow[]; nextCursor: number | null; total: number }>('GET', `/admin/audit?${q}`),
  verify: () => api<{ ok: boolean; rows: number; badRowId?: number; problem?: string; ms: number }>('GET', '/admin/audit/verify'),
  backups: () => api<{ dir: string; backups: { name: string; bytes: number }[] }>('GET', '/admin/backups'),
  backup: () => api<{ name: string; bytes: number; ms: number }>('POST', '/admin/backups'),
  history: (patientId: string, at: string | null) =>
    api<RecordHistory>('GET', `/admin/patients/${encodeURIComponent(patientId)}/history${at ? `?at=${encodeURIComponent(at)}` : ''}`),
};

/** Downloads an authenticated file (a link cannot carry the Bearer token). */
export async function download(path: string, fallbackName: string): Promise<void> {
  const token = getSession()?.token;
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: string } | null)?.error ?? `The server answered ${res.status}`);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const kb = (n: number | null): string => (n === null ? '–' : n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`);
