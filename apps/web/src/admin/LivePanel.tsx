// Open records and connected devices right now, refreshed every few seconds.
import { useEffect, useState } from 'react';
import { adminApi, kb, type DocStats, type LiveClient } from './admin-api.js';

export function LivePanel() {
  const [live, setLive] = useState<{ documents: DocStats[]; clients: LiveClient[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    adminApi.live().then((l) => (setLive(l), setError(null)), (e: Error) => setError(e.message));
    const t = setTimeout(() => setTick((n) => n + 1), 5000);
    return () => clearTimeout(t);
  }, [tick]);

  const run = (p: Promise<unknown>): void => {
    p.then(() => setTick((n) => n + 1), (e: Error) => setError(e.message));
  };

  return (
    <>
      {error && <p className="error">{error}</p>}
      <section className="card">
        <h3>Connected ({live?.clients.length ?? 0})</h3>
        <div className="table-wrap">
          <table data-testid="clients">
            <thead><tr><th>Person</th><th>Role</th><th>Device</th><th>IP</th><th>Since</th><th>Record</th><th /></tr></thead>
            <tbody>
              {live?.clients.map((c) => (
                <tr key={c.connId}>
                  <td>{c.name} ({c.username})</td><td>{c.role}</td><td>{c.device ?? '–'}</td><td>{c.ip ?? '–'}</td>
                  <td>{new Date(c.since).toLocaleTimeString()}</td>
                  <td><a href={`#/patients/${encodeURIComponent(c.docName.slice('patient:'.length))}`}>{c.docName}</a></td>
                  <td className="actions">
                    <button type="button" className="small secondary" onClick={() => run(adminApi.disconnect(c.connId, false))}>Disconnect</button>
                    <button type="button" className="small secondary" onClick={() => run(adminApi.disconnect(c.connId, true))}>Sign out</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="card">
        <h3>Open records ({live?.documents.length ?? 0})</h3>
        <div className="table-wrap">
          <table data-testid="documents">
            <thead><tr><th>Record</th><th>Connections</th><th>In memory</th><th>Snapshot</th><th>Log</th><th>Updates since snapshot</th><th /></tr></thead>
            <tbody>
              {live?.documents.map((d) => (
                <tr key={d.docName}>
                  <td>{d.docName}</td><td>{d.connections}</td><td>{kb(d.memoryBytes)}</td><td>{kb(d.snapshotBytes)}</td>
                  <td>{kb(d.logBytes)} ({d.logRows} rows)</td><td>{d.updatesSinceSnapshot ?? '–'}</td>
                  <td><button type="button" className="small secondary" onClick={() => run(adminApi.compact(d.docName))}>Snapshot now</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
