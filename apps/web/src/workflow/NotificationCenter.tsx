// The notification bell and drawer, and the critical-value alert that stays on screen until it is
// acknowledged: a critical lab value must be impossible to miss.
import { useState } from 'react';
import type { Session } from '../session/session.js';
import { formatTime } from '../record/format.js';
import { applyList, markReadLocally, useLive } from './live.js';
import { fetchNotifications, markAllRead, markRead, type Notification } from './workflow-api.js';
import { BellIcon } from '../shell/icons.js';
import './workflow.css';

function recordLink(n: Notification): string | null {
  return n.patientId ? `#/patients/${encodeURIComponent(n.patientId)}` : null;
}

async function acknowledge(id: number): Promise<void> {
  markReadLocally(id);
  await markRead(id).catch(() => undefined);
}

function CriticalAlert({ items }: { items: Notification[] }) {
  if (items.length === 0) return null;
  return (
    <div className="wf-critical-backdrop">
      <div className="wf-critical" role="alertdialog" aria-modal="true" aria-labelledby="wf-critical-title" data-testid="critical-alert">
        <h2 id="wf-critical-title">Critical {items.length === 1 ? 'value' : 'values'}</h2>
        {items.map((n) => (
          <div key={n.id} className="wf-critical-item">
            <strong>{n.title}</strong>
            <p>{n.body}</p>
            <div className="actions">
              <button type="button" onClick={() => void acknowledge(n.id)}>Acknowledge</button>
              {recordLink(n) && (
                <a className="wf-open" href={recordLink(n)!} onClick={() => void acknowledge(n.id)}>Acknowledge and open the record</a>
              )}
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

export function NotificationCenter({ session }: { session: Session }) {
  const live = useLive(session);
  const [open, setOpen] = useState(false);
  const toggle = (): void => {
    if (!open) fetchNotifications().then(applyList).catch(() => undefined);
    setOpen(!open);
  };
  return (
    <>
      <button type="button" className={`wf-bell ${live.unread ? 'has-unread' : ''}`} onClick={toggle}
        aria-label={`Notifications: ${live.unread} unread`} aria-expanded={open} data-testid="notification-bell">
        <BellIcon className="wf-bell-icon" />
        {live.unread > 0 && <span className="wf-count" data-testid="unread-count">{live.unread}</span>}
      </button>
      {open && (
        <aside className="wf-drawer" aria-label="Notifications">
          <header>
            <h3>Notifications</h3>
            <span className={`wf-dot ${live.connected ? 'on' : 'off'}`} title={live.connected ? 'Live' : 'Reconnecting'} />
            {live.unread > 0 && (
              <button type="button" className="small secondary" onClick={() => {
                for (const n of live.items) if (!n.read) markReadLocally(n.id);
                void markAllRead();
              }}>Mark all read</button>
            )}
            <button type="button" className="small secondary" onClick={() => setOpen(false)}>Close</button>
          </header>
          {live.items.length === 0 && <p className="muted">Nothing yet.</p>}
          <ul>
            {live.items.map((n) => (
              <li key={n.id} className={`wf-note ${n.read ? 'read' : 'unread'} sev-${n.severity}`} data-kind={n.kind}>
                <strong>{n.title}</strong>
                <span>{n.body}</span>
                <span className="muted">{formatTime(n.createdAt)}</span>
                <span className="wf-note-actions">
                  {recordLink(n) && <a href={recordLink(n)!} onClick={() => { void acknowledge(n.id); setOpen(false); }}>Open record</a>}
                  {!n.read && <button type="button" className="link" onClick={() => void acknowledge(n.id)}>Mark read</button>}
                </span>
              </li>
            ))}
          </ul>
        </aside>
      )}
      <CriticalAlert items={live.critical} />
    </>
  );
}
