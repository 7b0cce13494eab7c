// The patient list from the server, and the last copy kept on this device (per user) for offline use.
import type { PatientRow } from '@pamoja/schema';
import { api } from '../session/api.js';

export type { PatientRow };

const cacheKey = (userId: string): string => `pamoja:${userId}:patients`;

export function cachedPatients(userId: string): PatientRow[] {
  try {
    return JSON.parse(localStorage.getItem(cacheKey(userId)) ?? '[]') as PatientRow[];
  } catch {
    return [];
  }
}

/** The same matching the server does (name, OP number, phone digits), for searching offline. */
export function matches(p: PatientRow, q: string): boolean {
  const s = q.trim().toLowerCase();
  if (!s) return true;
  const digits = s.replace(/\D/g, '');
  return `${p.firstName} ${p.lastName}`.toLowerCase().includes(s) || `${p.lastName} ${p.firstName}`.toLowerCase().includes(s) ||
    p.opNumber.toLowerCase().includes(s) || (digits.length >= 3 && p.phone.replace(/\D/g, '').includes(digits));
}

export async function fetchPatients(userId: string, q: string): Promise<{ rows: PatientRow[]; offline: boolean }> {
  try {
    const rows = await api<PatientRow[]>('GET', `/api/patients${q.trim() ? `?q=${encodeURIComponent(q.trim())}` : ''}`);
    if (!q.trim()) localStorage.setItem(cacheKey(userId), JSON.stringify(rows));
    return { rows, offline: false };
  } catch (e) {
    if ((e as { status?: number }).status !== 0) throw e;
    return { rows: cachedPatients(userId).filter((p) => matches(p, q)), offline: true };
  }
}
