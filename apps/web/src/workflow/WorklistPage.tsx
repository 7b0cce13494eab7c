// A role's worklist: its queue, most urgent first then longest waiting, live as patients move;
// take a patient (only one person can), open the record, and the day board above it.
import { useCallback, useEffect, useState } from 'react';
import { ROLE_LABELS, ROLES, type Role } from '@pamoja/permissions';
import type { Session } from '../session/session.js';
import { humanize, statusLabel } from '../record/format.js';
import { useLive } from './live.js';
import { DayBoard } from './DayBoard.js';
import { fetchWorklist, releasePatient, takePatient, type WorklistItem } from './workflow-api.js';
import './workflow.css';

const QUEUES = ROLES.filter((r) => r !== 'ADMIN');

const waited = (m: number): string => (m < 60 ? `${Math.floor(m)} min` : `${Math.floor(m / 60)} h ${Math.floor(m % 60)} min`);

export function WorklistPage({ session }: { session: Session }) {
  const isAdmin = session.user.role === 'ADMIN';
  const [role, setRole] = useState<Role>(isAdmin ? 'NURSE' : session.user.role);
  const [items, setItems] = useState<WorklistItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const live = useLive(session);

  const load = useCallback(() => {
    fetchWorklist(isAdmin ? role : undefined)
      .then((r) => {
        setItems(r.items);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [isAdmin, role]);

  // Refetch when this queue moves, and each half minute so waiting times stay true.
  useEffect(() => {
    if (live.queueTick > 0 && live.queueRoles.includes(role)) load();
  }, [live.queueTick, live.queueRoles, role, load]);
  useEffect(() => {
    load();
    const t = setInterval(load, 30_000);
    return () => clearInterval(t);
  }, [load]);

  const act = async (item: WorklistItem, what: 'take' | 'release'): Promise<void> => {
    setBusy(item.assignmentId);
    try {
      await (what === 'take' ? takePatient(item) : releasePatient(item));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
      load();
    }
  };

  return (
    <div className="page">
      <DayBoard tick={live.queueTick} />
      <div className="toolbar wf-toolbar">
        <h2>{ROLE_LABELS[role]} worklist</h2>
        {isAdmin && (
          <select aria-label="Queue" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {QUEUES.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
          </select>
        )}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {items === null && !error && <p className="muted">Loading the queue…</p>}
      {items?.length === 0 && <p className="muted">Nobody is waiting. </p>}
      <ul className="wf-list" data-testid="worklist">
        {items?.map((i) => (
          <li key={i.assignmentId} className={`wf-item prio-${i.priority.toLowerCase()}`} data-patient={i.opNumber}>
            <span className={`wf-prio prio-${i.priority.toLowerCase()}`}>{humanize(i.priority)}</span>
            <span className="wf-who">
              <a href={`#/patients/${encodeURIComponent(i.patientId)}`} className="name">{i.name || 'Patient'}</a>
              <span className="muted">{i.opNumber} · {statusLabel(i.step)}{i.notes ? ` · “${i.notes}”` : ''}</span>
            </span>
            {i.triageCategory && <span className={`triage triage-${i.triageCategory.toLowerCase()}`}>{humanize(i.triageCategory)}</span>}
            <span className="wf-wait" title={`In this queue since ${new Date(i.queuedAt).toLocaleTimeString()}`}>{waited(i.waitMinutes)}</span>
            <span className="wf-owner">
              {i.mine && <button type="button" className="small secondary" disabled={busy === i.assignmentId} onClick={() => void act(i, 'release')}>Put back</button>}
              {!i.assignee && !isAdmin && <button type="button" className="small" disabled={busy === i.assignmentId} onClick={() => void act(i, 'take')}>Take</button>}
              {i.assignee && !i.mine && <span className="badge">With {i.assignee.name}{i.assignee.away ? ' (signed out)' : ''}</span>}
              {i.assignee && !i.mine && i.assignee.away && !isAdmin && <button type="button" className="small" disabled={busy === i.assignmentId} onClick={() => void act(i, 'take')}>Take over</button>}
              {i.mine && <span className="badge yours">Yours</span>}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
