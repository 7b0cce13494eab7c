// How values of the record read to a person.
import { VISIT_STATUSES, type VisitStatus } from '@pamoja/schema';

export const STATUS_LABELS: Record<VisitStatus, string> = {
  REGISTERED: 'Registered',
  TRIAGE: 'Waiting for triage',
  CONSULTATION: 'Waiting for consultation',
  LAB: 'At the lab',
  PHARMACY: 'At the pharmacy',
  PAYMENT: 'Waiting to pay',
  COMPLETED: 'Completed',
};

export function statusLabel(s: string | null | undefined): string {
  return s && (VISIT_STATUSES as readonly string[]).includes(s) ? STATUS_LABELS[s as VisitStatus] : 'No open visit';
}

/** `SEMI_URGENT` reads "Semi urgent". */
export function humanize(code: string): string {
  const s = code.toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return '(empty)';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.code === 'string') return `${o.code} ${String(o.display ?? '')}`.trim();
    return Object.entries(o).map(([k, x]) => `${k}: ${String(x)}`).join(', ');
  }
  return typeof v === 'string' && /^[A-Z_]+$/.test(v) ? humanize(v) : String(v);
}

export function formatTime(iso: string | number | undefined): string {
  if (iso === undefined || iso === '') return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function ageFrom(dateOfBirth: string): string {
  const dob = new Date(dateOfBirth);
  if (Number.isNaN(dob.getTime())) return '';
  const years = Math.floor((Date.now() - dob.getTime()) / (365.25 * 24 * 3600_000));
  return years >= 2 ? `${years} y` : `${Math.floor((Date.now() - dob.getTime()) / (30.44 * 24 * 3600_000))} mo`;
}
