// Sign in with a clinic account (the demo clinic: reception, nurse, clinician ... password "demo").
import { useState, type FormEvent } from 'react';
import { signIn } from './api.js';

export function LoginPage() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login">
      <form className="card" onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <h1>Pamoja</h1>
        <p className="muted">The clinic's shared patient record</p>
        <label className="field">Username
          <input name="username" autoComplete="username" autoCapitalize="none" value={username} required
            onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label className="field">Password
          <input name="password" type="password" autoComplete="current-password" value={password} required
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error && <p className="error" role="alert">{error}</p>}
      </form>
    </div>
  );
}
