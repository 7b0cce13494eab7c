// The patient list: search by name, OP number or phone, each patient with the step their visit is at.
import { useEffect, useState } from 'react';
import type { Session } from '../session/session.js';
import { navigate } from '../router/hash-router.js';
import { fetchPatients, type PatientRow } from './patients.js';
import { RegisterPatient } from './RegisterPatient.js';
import { NewVisitButton, visitClosed } from './NewVisit.js';
import { ageFrom, humanize, statusLabel } from '../record/format.js';

export function PatientListPage({ session }: { session: Session }) {
  const [q, setQ] = useState('');
  const [rows, setRows] = useState<PatientRow[] | null>(null);
  const [offline, setOffline] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      fetchPatients(session.user.id, q)
        .then((r) => {
          if (!live) return;
          setRows(r.rows);
          setOffline(r.offline);
          setError(null);
        })
        .catch((e: Error) => live && setError(e.message));
    }, q ? 250 : 0);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q, session.user.id, reload]);

  return (
    <div className="page">
      <div className="toolbar">
        <input type="search" className="search" placeholder="Name, OP number or phone" value={q}
          aria-label="Search patients" onChange={(e) => setQ(e.target.value)} />
      </div>
      {session.user.role === 'RECEPTIONIST' && <RegisterPatient onRegistered={(id) => { setReload((n) => n + 1); navigate(`/patients/${id}`); }} />}
      {offline && <p className="notice">Offline: showing the list as it was when this device last had a network.</p>}
      {error && <p className="error">{error}</p>}
      {rows === null && !error && <p className="muted">Loading patients…</p>}
      {rows && rows.length === 0 && <p className="muted">No patient matches “{q}”.</p>}
      <ul className="patient-list">
        {rows?.map((p) => (
          <li key={p.id} data-patient-id={p.id}>
            <a href={`#/patients/${encodeURIComponent(p.id)}`} className="patient-row" data-patient={p.opNumber}>
              <span className="name">{p.firstName} {p.lastName}</span>
              <span className="muted">{p.opNumber} · {humanize(p.sex)} · {ageFrom(p.dateOfBirth)} · {p.phone}</span>
              <span className={`step step-${(p.visitStatus ?? 'none').toLowerCase()}`}>{statusLabel(p.visitStatus)}</span>
              {p.triageCategory && <span className={`triage triage-${p.triageCategory.toLowerCase()}`}>{humanize(p.triageCategory)}</span>}
            </a>
            {session.user.role === 'RECEPTIONIST' && visitClosed(p.visitStatus) && (
              <NewVisitButton patientId={p.id} label="New visit" className="small"
                onOpened={() => navigate(`/patients/${encodeURIComponent(p.id)}`)} />
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
