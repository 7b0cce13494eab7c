// Shapes the server's HTTP API answers with and the web app reads: the patient list and notifications.

import type { PatientSummary } from './record.js';

/** One row of `GET /api/patients`: the record's summary, with its current visit flattened. */
export interface PatientRow extends Omit<PatientSummary, 'currentVisit'> {
  visitId: string | null;
  visitStatus: string | null;
  triageCategory: string | null;
  visitOpenedAt: string | null;
}

export const NOTIFICATION_KINDS = [
  'ASSIGNMENT', 'URGENT_TRIAGE', 'LAB_ORDERED', 'LAB_RESULTS_READY', 'CRITICAL_LAB_VALUE',
  'PRESCRIPTION_READY', 'READY_FOR_PAYMENT', 'VISIT_COMPLETED',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** critical: must be acknowledged (critical lab values); urgent: shown prominently. */
export type Severity = 'info' | 'urgent' | 'critical';

/** One notification as stored for one person and sent by `GET /api/notifications` and its stream. */
export interface Notification {
  id: number;
  kind: NotificationKind;
  severity: Severity;
  critical: boolean;
  title: string;
  body: string;
  patientId: string | null;
  visitId: string | null;
  createdAt: string;
  readAt: string | null;
  read: boolean;
}
