// Online backups: take one now (the clinic keeps working), list and download them.
import { useEffect, useState } from 'react';
import { adminApi, download, kb } from './admin-api.js';

export function BackupsPanel() {
  const [list, setList] = useState<{ dir: string; backups: { name: string; bytes: number }[] } | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    adminApi.backups().then(setList, (e: Error) => setMessage({ ok: false, text: e.message }));
  }, [reload]);

  const backup = (): void => {
    setBusy(true);
    adminApi.backup().then(
      (b) => setMessage({ ok: true, text: `Backup ${b.name} written (${kb(b.bytes)} in ${b.ms} ms)` }),
      (e: Error) => setMessage({ ok: false, text: e.message }),
    ).finally(() => {
      setBusy(false);
      setReload((n) => n + 1);
    });
  };

  return (
    <section className="card">
      <header><h3>Backups</h3><button type="button" disabled={busy} onClick={backup}>Back up now</button></header>
      <p className="muted">Written to {list?.dir ?? '…'} on the server. To restore, stop the server and run <code>npm run restore -- &lt;file&gt; --data-dir &lt;dir&gt;</code>.</p>
      {message && <p className={message.ok ? 'ok' : 'error'} role="status">{message.text}</p>}
      <ul className="entries">
        {list?.backups.map((b) => (
          <li key={b.name}>
            <span className="code">{b.name}</span> {kb(b.bytes)}
            <button type="button" className="small secondary" onClick={() => download(`/admin/backups/${b.name}`, b.name).catch((e: Error) => setMessage({ ok: false, text: e.message }))}>Download</button>
          </li>
        ))}
      </ul>
    </section>
  );
}
