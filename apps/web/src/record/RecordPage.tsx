// One patient's record: who they are, who else is here, the current visit and every past visit.
import { useEffect } from 'react';
import { demographicsOf, contactOf, listVisits, visitsOf } from '@pamoja/schema';
import type { Session } from '../session/session.js';
import { useRecordConnection } from './hooks/useRecordConnection.js';
import { useStore } from './connection/store.js';
import { useYDeep } from './hooks/useY.js';
import { RecordContext, useRecord } from './RecordContext.js';
import { PresenceBar } from './presence/PresenceBar.js';
import { SyncStatus } from './SyncStatus.js';
import { VisitView } from './VisitView.js';
import { PatientSection } from './sections/PatientSection.js';
import { ageFrom, formatTime, humanize, statusLabel } from './format.js';
import { NewVisitButton, visitClosed } from '../patients/NewVisit.js';

export function RecordPage({ session, patientId }: { session: Session; patientId: string }) {
  const conn = useRecordConnection(session, patientId);
  if (!conn) return <p className="page muted">Opening the record…</p>;
  return (
    <RecordContext.Provider value={{ conn, role: session.user.role, patientId }}>
      <RecordBody />
    </RecordContext.Provider>
  );
}

function RecordBody() {
  const { conn, role, patientId } = useRecord();
  const link = useStore(conn.link);
  const demo = demographicsOf(conn.doc);
  useYDeep(demo);
  useYDeep(contactOf(conn.doc));
  useYDeep(visitsOf(conn.doc));
  const visits = listVisits(conn.doc);
  const current = visits[0];
  useEffect(() => {
    if (current) conn.setPresence({ visitId: current.visitId });
  }, [conn, current?.visitId]);

  if (!link.loaded) return <p className="page muted">Opening the record…</p>;
  const name = `${String(demo.get('firstName') ?? '')} ${String(demo.get('lastName') ?? '')}`.trim();
  return (
    <div className="page record">
      <div className="record-head">
        <div>
          <h2 data-patient-name>{name || 'Patient'}</h2>
          <p className="muted">
            {String(demo.get('opNumber') ?? '')} · {humanize(String(demo.get('sex') ?? 'unknown'))}
            {demo.get('dateOfBirth') ? ` · ${ageFrom(String(demo.get('dateOfBirth')))} (born ${String(demo.get('dateOfBirth'))})` : ''}
            {contactOf(conn.doc).get('phone') ? ` · ${String(contactOf(conn.doc).get('phone'))}` : ''}
          </p>
        </div>
        <div className="record-actions">
          {role === 'ADMIN' && <a href={`#/patients/${encodeURIComponent(patientId)}/history`} data-testid="history-link">History</a>}
          {role === 'RECEPTIONIST' && link.synced && visitClosed(current?.status) && <NewVisitButton patientId={patientId} />}
          <SyncStatus />
        </div>
      </div>
      <PresenceBar />
      {!current && (
        <p className="muted">
          {link.synced ? 'This patient has no visit yet.' : 'This record is not on this device yet; it will appear when the server is reachable.'}
        </p>
      )}
      {current && <PatientSection visitId={current.visitId} />}
      {current && (
        <>
          <h3 className="visit-title">Current visit · opened {formatTime(current.openedAt)} · {statusLabel(current.status)}</h3>
          <VisitView visitId={current.visitId} />
        </>
      )}
      {visits.slice(1).map((v) => (
        <details key={v.visitId} className="past-visit">
          <summary>Past visit · {formatTime(v.openedAt)} · {statusLabel(v.status)}</summary>
          <VisitView visitId={v.visitId} />
        </details>
      ))}
    </div>
  );
}
