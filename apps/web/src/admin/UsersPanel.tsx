// Staff accounts: create, rename, change role, disable/enable, reset password. Changes reach the
// person's open records at once (the server re-judges with the new role, or closes a disabled account).
import { useEffect, useState, type FormEvent } from 'react';
import { ROLES, ROLE_LABELS, type Role } from '@pamoja/permissions';
import { adminApi, type AdminUser } from './admin-api.js';

export function UsersPanel({ me }: { me: string }) {
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    adminApi.users().then(setUsers, (e: Error) => setMessage({ ok: false, text: e.message }));
  }, [reload]);

  const act = (what: string, p: Promise<unknown>): void => {
    p.then(() => {
      setMessage({ ok: true, text: what });
      setReload((n) => n + 1);
    }, (e: Error) => setMessage({ ok: false, text: e.message }));
  };

  return (
    <section className="card">
      <h3>Staff accounts</h3>
      {message && <p className={message.ok ? 'ok' : 'error'} role="status">{message.text}</p>}
      <div className="table-wrap">
        <table data-testid="users">
          <thead><tr><th>Username</th><th>Name</th><th>Role</th><th>Status</th><th>Connected</th><th /></tr></thead>
          <tbody>
            {users?.map((u) => (
              <tr key={u.id} data-username={u.username}>
                <td>{u.username}</td>
                <td>{u.name}</td>
                <td>
                  <select aria-label={`Role of ${u.username}`} value={u.role} disabled={u.id === me}
                    onChange={(e) => act(`${u.username} is now ${ROLE_LABELS[e.target.value as Role]}`, adminApi.editUser(u.id, { role: e.target.value }))}>
                    {ROLES.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
                  </select>
                </td>
                <td>{u.disabled ? <span className="bad">Disabled</span> : 'Active'}</td>
                <td>{u.connections}</td>
                <td className="actions">
                  <button type="button" className="small secondary" onClick={() => {
                    const name = window.prompt(`New name for ${u.username}`, u.name);
                    if (name) act(`Renamed ${u.username}`, adminApi.editUser(u.id, { name }));
                  }}>Rename</button>
                  <button type="button" className="small secondary" onClick={() => {
                    const pw = window.prompt(`New password for ${u.username} (at least 8 characters). They will be signed out everywhere.`);
                    if (pw) act(`Password reset for ${u.username}`, adminApi.resetPassword(u.id, pw));
                  }}>Reset password</button>
                  {u.id !== me && (
                    <button type="button" className="small secondary" onClick={() => act(`${u.username} ${u.disabled ? 'enabled' : 'disabled'}`, adminApi.editUser(u.id, { disabled: !u.disabled }))}>
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <NewUser onCreated={(u) => act(`Created ${u}`, Promise.resolve())} onError={(text) => setMessage({ ok: false, text })} />
    </section>
  );
}

function NewUser({ onCreated, onError }: { onCreated: (username: string) => void; onError: (m: string) => void }) {
  const [form, setForm] = useState({ username: '', name: '', role: 'NURSE', password: '' });
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    adminApi.createUser(form).then(() => {
      onCreated(form.username);
      setForm({ username: '', name: '', role: 'NURSE', password: '' });
    }, (err: Error) => onError(err.message));
  };
  return (
    <form className="entry-form" onSubmit={submit} aria-label="New staff account">
      <label className="field">Username<input value={form.username} onChange={set('username')} required /></label>
      <label className="field">Name<input value={form.name} onChange={set('name')} required /></label>
      <label className="field">Role
        <select value={form.role} onChange={set('role')}>{ROLES.map((r) => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}</select>
      </label>
      <label className="field">Password<input type="password" value={form.password} onChange={set('password')} minLength={8} required /></label>
      <button type="submit">Add account</button>
    </form>
  );
}
