// A small form that adds one entry (a prescription, a lab order, a payment) to an id-keyed section,
// under an id made on this device so it works offline.
import { useState, type FormEvent } from 'react';
import type * as Y from 'yjs';
import { newId } from '@pamoja/schema';
import { useRecord } from '../RecordContext.js';

export interface EntryInput {
  key: string;
  label: string;
  kind: 'text' | 'number' | 'select';
  options?: readonly { value: string; label: string }[];
  required?: boolean;
}

export function EntryForm(p: {
  map: Y.Map<unknown> | undefined; inputs: EntryInput[]; submitLabel: string; section: string; visitId: string;
  disabled: boolean; onFocus?: () => void; onBlur?: () => void;
}) {
  const { conn } = useRecord();
  const blank = (): Record<string, string> => Object.fromEntries(p.inputs.map((i) => [i.key, i.kind === 'select' ? (i.options?.[0]?.value ?? '') : '']));
  const [values, setValues] = useState<Record<string, string>>(blank);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!p.map) return;
    const entry: Record<string, unknown> = { at: new Date().toISOString() };
    for (const i of p.inputs) {
      const raw = (values[i.key] ?? '').trim();
      if (!raw) {
        if (i.required) return setError(`${i.label} is required`);
        continue;
      }
      if (i.kind === 'number') {
        const n = Number(raw);
        if (!Number.isFinite(n) || n < 0) return setError(`${i.label} must be a number`);
        entry[i.key] = n;
      } else entry[i.key] = raw;
    }
    setError(null);
    p.map.set(newId(), entry);
    setValues(blank());
  };
  return (
    <form className="entry-form" onSubmit={submit} data-form={p.section}
      onFocus={() => (p.onFocus ?? (() => conn.focus(p.section, undefined, p.visitId)))()}
      onBlur={() => (p.onBlur ?? (() => conn.blur()))()}>
      {p.inputs.map((i) => (
        <label key={i.key} className="field">
          {i.label}
          {i.kind === 'select' ? (
            <select name={i.key} value={values[i.key]} disabled={p.disabled}
              onChange={(e) => setValues({ ...values, [i.key]: e.target.value })}>
              {i.options?.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
            </select>
          ) : (
            <input name={i.key} value={values[i.key]} disabled={p.disabled} inputMode={i.kind === 'number' ? 'decimal' : undefined}
              autoComplete="off"
              onChange={(e) => {
                conn.typing(p.section, i.key, p.visitId);
                setValues({ ...values, [i.key]: e.target.value });
              }} />
          )}
        </label>
      ))}
      <button type="submit" disabled={p.disabled}>{p.submitLabel}</button>
      {error && <span className="error">{error}</span>}
    </form>
  );
}
