// A patient record's history for the administrator: every field as of a chosen time, and each field's
// changes (who, when, old → new), rebuilt by the server from the audit trail.
import { useEffect, useState } from 'react';
import type { Session } from '../session/session.js';
import { adminApi, type RecordHistory } from './admin-api.js';
import './admin.css';

export function HistoryPage({ session, patientId }: { session: Session; patientId: string }) {
  if (session.user.role !== 'ADMIN') return <p className="page">The record history is for the clinic's administrator.</p>;
  return (
    <div className="page">
      <p><a href={`#/patients/${encodeURIComponent(patientId)}`}>← Back to the record</a></p>
      <HistoryPanel patientId={patientId} />
    </div>
  );
}

export function HistoryPanel({ patientId }: { patientId: string }) {
  const [at, setAt] = useState('');
  const [h, setH] = useState<RecordHistory | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);

  useEffect(() => {
    adminApi.history(patientId, at ? new Date(at).toISOString() : null).then((r) => (setH(r), setError(null)), (e: Error) => setError(e.message));
  }, [patientId, at]);

  const changesOf = (path: string) => h?.changes.find((c) => c.path === path)?.changes ?? [];
  return (
    <section className="card history" data-testid="history">
      <header>
        <h3>Record history</h3>
        <label className="field">As of <input type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} /></label>
      </header>
      <p className="muted">{h?.exactness}</p>
      {error && <p className="error">{error}</p>}
      <div className="table-wrap">
        <table>
          <thead><tr><th>Field</th><th>Value {at ? `at ${new Date(at).toLocaleString()}` : 'now'}</th><th>Set by</th><th>Changes</th></tr></thead>
          <tbody>
            {h?.fields.map((f) => (
              <tr key={f.path} data-path={f.path}>
                <td className="path">{f.path}</td>
                <td className={f.exact ? 'value' : 'value inexact'} title={f.note}>{f.value ?? (f.exact ? '∅' : `unknown — ${f.note ?? ''}`)}</td>
                <td>{f.setBy ?? '–'} {f.setAt ? new Date(f.setAt).toLocaleString() : ''}</td>
                <td>
                  {changesOf(f.path).length > 0 && (
                    <button type="button" className="small secondary" onClick={() => setOpen(open === f.path ? null : f.path)}>
                      {changesOf(f.path).length} change{changesOf(f.path).length === 1 ? '' : 's'}
                    </button>
                  )}
                  {open === f.path && (
                    <ol>
                      {changesOf(f.path).map((c) => (
                        <li key={`${c.auditId}`}>
                          {new Date(c.at).toLocaleString()} · {c.username} ({c.role}): {c.oldValue ?? '∅'} → {c.newValue ?? '∅'}
                          {c.outcome !== 'applied' ? ` [${c.outcome}]` : ''}
                        </li>
                      ))}
                    </ol>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
