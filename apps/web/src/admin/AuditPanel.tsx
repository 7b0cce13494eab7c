// The audit trail: filter by patient, person, field, action, outcome and time; page on; export CSV;
// verify the hash chain.
import { useEffect, useState } from 'react';
import { adminApi, download, type AuditRow } from './admin-api.js';

const EMPTY = { patientId: '', user: '', path: '', action: '', outcome: '', from: '', to: '' };
const OUTCOMES = ['', 'applied', 'reverted-forbidden', 'conflict', 'ok', 'denied', 'error'];

function toQuery(f: typeof EMPTY): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (!v) continue;
    // datetime-local has no zone: it means this device's local time.
    q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v);
  }
  return q;
}

export function AuditPanel() {
  const [filter, setFilter] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const [pages, setPages] = useState<(number | undefined)[]>([undefined]);
  const [data, setData] = useState<{ rows: AuditRow[]; nextCursor: number | null; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [verify, setVerify] = useState<string | null>(null);
  const cursor = pages[pages.length - 1];

  useEffect(() => {
    const q = toQuery(applied);
    q.set('limit', '50');
    if (cursor !== undefined) q.set('cursor', String(cursor));
    adminApi.audit(q).then((d) => (setData(d), setError(null)), (e: Error) => setError(e.message));
  }, [applied, cursor]);

  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setFilter({ ...filter, [k]: e.target.value });
  return (
    <section className="card">
      <h3>Audit trail</h3>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); setApplied(filter); setPages([undefined]); }}>
        <label className="field">Patient id<input value={filter.patientId} onChange={set('patientId')} /></label>
        <label className="field">Username<input value={filter.user} onChange={set('user')} /></label>
        <label className="field">Field (path, * for any visit)<input value={filter.path} onChange={set('path')} placeholder="visits/*/triage/category" /></label>
        <label className="field">Action<input value={filter.action} onChange={set('action')} placeholder="UPDATE, VIEW, LOGIN…" /></label>
        <label className="field">Outcome
          <select value={filter.outcome} onChange={set('outcome')}>{OUTCOMES.map((o) => <option key={o} value={o}>{o || 'any'}</option>)}</select>
        </label>
        <label className="field">From<input type="datetime-local" value={filter.from} onChange={set('from')} /></label>
        <label className="field">To<input type="datetime-local" value={filter.to} onChange={set('to')} /></label>
        <button type="submit">Search</button>
      </form>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => download(`/admin/audit/export?${toQuery(applied)}`, 'audit.csv').catch((e: Error) => setError(e.message))}>Export CSV</button>
        <button type="button" className="secondary" onClick={() => adminApi.verify().then(
          (v) => setVerify(v.ok ? `Chain intact: ${v.rows} rows checked in ${v.ms} ms` : `Chain broken at row ${v.badRowId}: ${v.problem}`),
          (e: Error) => setError(e.message),
        )}>Verify chain</button>
      </div>
      {verify && <p className={verify.startsWith('Chain intact') ? 'ok' : 'bad'} role="status">{verify}</p>}
      {error && <p className="error">{error}</p>}
      {data && <p className="muted">{data.total} rows match</p>}
      <div className="table-wrap">
        <table data-testid="audit">
          <thead><tr><th>#</th><th>Time</th><th>Who</th><th>Device / IP</th><th>Action</th><th>Field</th><th>Old → new</th><th>Outcome</th></tr></thead>
          <tbody>
            {data?.rows.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td><td>{new Date(r.at).toLocaleString()}</td><td>{r.username ?? '–'} {r.role ? `(${r.role})` : ''}</td>
                <td>{r.device ?? '–'} {r.ip ?? ''}</td><td>{r.action}</td>
                <td>{r.patient_id ? <a href={`#/patients/${encodeURIComponent(r.patient_id)}/history`}>{r.path ?? r.patient_id}</a> : r.path}</td>
                <td>{r.old_value ?? '∅'} → {r.new_value ?? '∅'}</td><td>{r.outcome}{r.detail ? `: ${r.detail}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="actions">
        <button type="button" className="secondary" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>Newer</button>
        <button type="button" className="secondary" disabled={!data?.nextCursor} onClick={() => data?.nextCursor && setPages([...pages, data.nextCursor])}>Older</button>
      </div>
    </section>
  );
}
