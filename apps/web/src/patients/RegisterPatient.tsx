// Registering a new patient (receptionist): opens their record with a visit waiting for triage. When the
// server finds the same person already registered (409), offers a new visit for them instead of a twin.
import { useState, type FormEvent } from 'react';
import { PAYMENT_TYPES, SEXES } from '@pamoja/schema';
import { api, ApiError } from '../session/api.js';
import { humanize } from '../record/format.js';
import { NewVisitButton } from './NewVisit.js';

export function RegisterPatient({ onRegistered }: { onRegistered: (id: string) => void }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ firstName: '', lastName: '', sex: 'female', dateOfBirth: '', phone: '', paymentType: 'CASH' });
  const [error, setError] = useState<string | null>(null);
  const [existing, setExisting] = useState<string | null>(null);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(null);
    setExisting(null);
    try {
      const r = await api<{ id: string }>('POST', '/api/patients', form);
      setOpen(false);
      onRegistered(r.id);
    } catch (err) {
      setError((err as Error).message);
      if (err instanceof ApiError && err.status === 409) setExisting((err.body as { existingId?: string }).existingId ?? null);
    }
  };
  if (!open) return <button type="button" onClick={() => setOpen(true)}>Register a new patient</button>;
  return (
    <form className="card register" onSubmit={(e) => void submit(e)}>
      <h3>New patient</h3>
      <div className="grid">
        <label className="field">First name<input required value={form.firstName} onChange={set('firstName')} /></label>
        <label className="field">Last name<input required value={form.lastName} onChange={set('lastName')} /></label>
        <label className="field">Sex
          <select value={form.sex} onChange={set('sex')}>{SEXES.map((s) => <option key={s} value={s}>{humanize(s)}</option>)}</select>
        </label>
        <label className="field">Date of birth<input required type="date" value={form.dateOfBirth} onChange={set('dateOfBirth')} /></label>
        <label className="field">Phone<input type="tel" value={form.phone} onChange={set('phone')} /></label>
        <label className="field">Payment
          <select value={form.paymentType} onChange={set('paymentType')}>{PAYMENT_TYPES.map((s) => <option key={s} value={s}>{humanize(s)}</option>)}</select>
        </label>
      </div>
      <div className="actions">
        <button type="submit">Register and open visit</button>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>Cancel</button>
      </div>
      {error && <p className="error">{error}</p>}
      {existing && (
        <p className="actions" data-testid="existing-patient">
          <NewVisitButton patientId={existing} label="Open a new visit for the existing patient"
            onOpened={() => { setOpen(false); onRegistered(existing); }} />
          <a href={`#/patients/${encodeURIComponent(existing)}`}>Open the existing record</a>
        </p>
      )}
    </form>
  );
}
