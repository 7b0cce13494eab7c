// The clinic day board: how many patients wait at each step, who has waited longest, what the day
// has finished, and how long each step has taken today.

import { QUEUE_ROLE } from '@pamoja/permissions';
import { VISIT_STATUSES, type VisitStatus } from '@pamoja/schema';
import type { DB } from '../storage/db.js';
import type { Assignments } from './assignments.js';
import { stepTimings, type StepTiming } from './timings.js';

export interface Board {
  at: string;
  steps: { step: VisitStatus; role: string | null; waiting: number; inService: number; total: number }[];
  longestWaits: { patientId: string; visitId: string; name: string; opNumber: string; step: VisitStatus; priority: string; waitingSince: string; waitMinutes: number; takenBy: string | null }[];
  completedToday: { patientId: string; visitId: string; name: string; opNumber: string; completedAt: string; totalMinutes: number }[];
  /** Mean minutes per step for steps that ended today. */
  averagesToday: { step: VisitStatus; count: number; meanWaitMinutes: number; meanServiceMinutes: number | null }[];
}

const minutes = (ms: number): number => Math.round(ms / 6000) / 10;

/** Local midnight: a clinic's day is the day on its wall clock. */
export function startOfToday(now = new Date()): string {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

interface PatientName { id: string; first_name: string; last_name: string; op_number: string }

export function buildBoard(db: DB, assignments: Assignments, now = new Date()): Board {
  const nowMs = now.getTime();
  const today = startOfToday(now);
  // Names of the patients shown only, not of everyone ever registered.
  const nameStatement = db.prepare('SELECT id, first_name, last_name, op_number FROM patients WHERE id = ?');
  const names = new Map<string, PatientName | undefined>();
  const nameOf = (id: string): { name: string; opNumber: string } => {
    if (!names.has(id)) names.set(id, nameStatement.get(id) as PatientName | undefined);
    const p = names.get(id);
    return { name: p ? `${p.first_name} ${p.last_name}`.trim() : '', opNumber: p?.op_number ?? '' };
  };

  const active = assignments.allActive();
  const steps = VISIT_STATUSES.filter((s) => s !== 'COMPLETED').map((step) => {
    const here = active.filter((a) => a.step === step);
    const inService = here.filter((a) => a.assigneeId !== null).length;
    return { step, role: QUEUE_ROLE[step], waiting: here.length - inService, inService, total: here.length };
  });

  const longestWaits = active.slice(0, 10).map((a) => ({
    patientId: a.patientId, visitId: a.visitId, ...nameOf(a.patientId), step: a.step, priority: a.priority,
    waitingSince: a.queuedAt, waitMinutes: minutes(nowMs - Date.parse(a.queuedAt)), takenBy: a.assigneeName,
  }));

  // Steps that ended today, through their index: SQLite would otherwise read every completed step
  // there has ever been (the status index), or every row (the visit index).
  const done = db.prepare(`
    SELECT a.patient_id, a.visit_id, a.ended_at, (SELECT min(queued_at) FROM assignments f WHERE f.visit_id = a.visit_id) AS first_at
    FROM assignments a INDEXED BY assignments_ended JOIN patients p ON p.visit_id = a.visit_id AND p.visit_status = 'COMPLETED'
    WHERE a.status = 'COMPLETED' AND a.ended_at >= ?
      AND NOT EXISTS (SELECT 1 FROM assignments b WHERE b.visit_id = a.visit_id AND b.id > a.id)
    ORDER BY a.ended_at DESC`).all(today) as { patient_id: string; visit_id: string; ended_at: string; first_at: string }[];
  const completedToday = done.map((r) => ({
    patientId: r.patient_id, visitId: r.visit_id, ...nameOf(r.patient_id), completedAt: r.ended_at,
    totalMinutes: minutes(Date.parse(r.ended_at) - Date.parse(r.first_at)),
  }));

  const visitIds = (db.prepare(`SELECT DISTINCT visit_id FROM assignments INDEXED BY assignments_ended WHERE ended_at >= ?`).all(today) as { visit_id: string }[]).map((r) => r.visit_id);
  const ended: StepTiming[] = visitIds.flatMap((v) => stepTimings(assignments.history(v), nowMs)).filter((t) => t.endedAt && t.endedAt >= today);
  const averagesToday = VISIT_STATUSES.filter((s) => s !== 'COMPLETED').flatMap((step) => {
    const ts = ended.filter((t) => t.step === step);
    if (ts.length === 0) return [];
    const served = ts.filter((t) => t.serviceMs !== null);
    return [{
      step, count: ts.length,
      meanWaitMinutes: minutes(ts.reduce((s, t) => s + t.waitMs, 0) / ts.length),
      meanServiceMinutes: served.length ? minutes(served.reduce((s, t) => s + (t.serviceMs ?? 0), 0) / served.length) : null,
    }];
  });

  return { at: now.toISOString(), steps, longestWaits, completedToday, averagesToday };
}
