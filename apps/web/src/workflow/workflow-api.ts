// Calls to the server's workflow API (worklists, take, notifications, board), typed as it answers.
import type { Notification } from '@pamoja/schema';
import { api } from '../session/api.js';

export type { Notification };

export interface WorklistItem {
  assignmentId: number;
  patientId: string;
  visitId: string;
  name: string;
  opNumber: string;
  sex: string;
  dateOfBirth: string;
  triageCategory: string | null;
  step: string;
  type: string;
  queueRole: string;
  priority: 'LOW' | 'NORMAL' | 'HIGH' | 'URGENT';
  queuedAt: string;
  waitMinutes: number;
  /** `away`: signed out everywhere; a colleague may take the patient over. */
  assignee: { id: string; name: string | null; away: boolean } | null;
  mine: boolean;
  notes: string | null;
}

export interface NotificationList {
  items: Notification[];
  unread: number;
  criticalUnread: number;
  critical: Notification[];
}

export interface Board {
  at: string;
  steps: { step: string; role: string | null; waiting: number; inService: number; total: number }[];
  longestWaits: { patientId: string; name: string; opNumber: string; step: string; priority: string; waitMinutes: number; takenBy: string | null }[];
  completedToday: { patientId: string; name: string; opNumber: string; completedAt: string; totalMinutes: number }[];
  averagesToday: { step: string; count: number; meanWaitMinutes: number; meanServiceMinutes: number | null }[];
}

export const fetchWorklist = (role?: string) =>
  api<{ role: string; items: WorklistItem[] }>('GET', `/api/worklist${role ? `?role=${encodeURIComponent(role)}` : ''}`);

const visit = (i: { patientId: string; visitId: string }) => `/api/visits/${encodeURIComponent(i.patientId)}/${encodeURIComponent(i.visitId)}`;

export const takePatient = (i: WorklistItem) => api<unknown>('POST', `${visit(i)}/take`);
export const releasePatient = (i: WorklistItem) => api<unknown>('POST', `${visit(i)}/release`);

export const fetchNotifications = () => api<NotificationList>('GET', '/api/notifications');
export const markRead = (id: number) => api<Notification>('POST', `/api/notifications/${id}/read`);
export const markAllRead = () => api<{ marked: number }>('POST', '/api/notifications/read-all');

export const fetchBoard = () => api<Board>('GET', '/api/board');
