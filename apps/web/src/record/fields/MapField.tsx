// One field of a map section (triage category, chief complaint, a vital sign ...), bound to its Y.Map key.
// Edits are written after a short pause or on leaving the field; presence says where I am and that I
// am typing; lockable fields are locked on focus and released on blur.
import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import type * as Y from 'yjs';
import { useRecord } from '../RecordContext.js';
import { useYDeep } from '../hooks/useY.js';
import { useStore } from '../connection/store.js';
import { ConflictsAt } from '../conflicts/ConflictNotice.js';
import { isLockable } from '@pamoja/schema';
import { LockIcon } from '../../shell/icons.js';

export interface FieldProps {
  map: Y.Map<unknown> | undefined;
  /** The unit: `visits/<id>/triage`, `demographics` ... */
  unitPath: string;
  section: string;
  visitId: string;
  field: string;
  label: string;
  kind: 'text' | 'textarea' | 'number' | 'select' | 'date';
  options?: readonly { value: string; label: string }[];
  editable: boolean;
  unit?: string;
  /** Normal range, shown as a hint and used to flag values outside it. */
  normal?: readonly [number, number];
  min?: number;
  max?: number;
  /** Also written with the value (e.g. the time triage was done). */
  alsoSet?: () => Record<string, unknown>;
}

const COMMIT_DELAY_MS = 700;

export function MapField(p: FieldProps) {
  const { conn } = useRecord();
  useYDeep(p.map);
  const locks = useStore(conn.locks);
  const lockRefusals = useStore(conn.lockRefusals);
  const fieldPath = `${p.unitPath}/${p.field}`;
  const stored = p.map?.get(p.field);
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lockable = isLockable(fieldPath);
  const holder = locks.find((l) => (l.path === fieldPath || l.path === p.unitPath) && l.userId !== conn.me.id) ?? null;
  const lockRefusal = lockRefusals.get(fieldPath);
  const disabled = !p.editable || holder !== null;
  const shown = draft ?? (stored === undefined || stored === null ? '' : String(stored));

  /** The stored value when I started on the field: a change by someone else since is shown, not overwritten. */
  const startedFrom = useRef<unknown>(undefined);
  const [theirs, setTheirs] = useState<{ value: unknown } | null>(null);
  /** Writes what is typed and not yet written (a reload or a page change must not lose it). */
  const flush = useRef<() => void>(() => {});
  flush.current = () => {
    if (timer.current && draft !== null) commit(draft);
  };
  useEffect(() => {
    // Leaving the page, or going to another page of the app (the record closes right after).
    const onHide = (): void => flush.current();
    for (const e of ['pagehide', 'hashchange', 'popstate']) window.addEventListener(e, onHide);
    return () => {
      for (const e of ['pagehide', 'hashchange', 'popstate']) window.removeEventListener(e, onHide);
      flush.current();
      if (timer.current) clearTimeout(timer.current);
    };
  }, []);

  const commit = (raw: string): void => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    if (!p.map) return;
    let value: string | number | null = raw.trim() === '' ? null : p.kind === 'number' ? Number(raw) : raw;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return setError(`${p.label} must be a number`);
      if ((p.min !== undefined && value < p.min) || (p.max !== undefined && value > p.max)) {
        return setError(`${p.label} must be between ${p.min} and ${p.max}`);
      }
    }
    if (typeof value === 'string' && p.kind !== 'textarea') value = value.trim();
    setError(null);
    const current = p.map.get(p.field);
    if ((value ?? undefined) === (current ?? undefined)) return;
    if (draft !== null && (current ?? undefined) !== (startedFrom.current ?? undefined)) {
      // Someone else saved this field while I was typing: keep both in sight, let me choose.
      setTheirs({ value: current });
      return;
    }
    const map = p.map;
    map.doc!.transact(() => {
      if (value === null) map.delete(p.field);
      else map.set(p.field, value);
      if (value !== null) for (const [k, v] of Object.entries(p.alsoSet?.() ?? {})) map.set(k, v);
    });
    startedFrom.current = map.get(p.field);
  };

  const onFocus = (): void => {
    conn.focus(p.section, p.field, p.visitId);
    if (lockable) conn.lock(fieldPath);
    if (theirs === null) startedFrom.current = stored;
    setDraft(draft ?? shown);
  };
  const onBlur = (): void => {
    commit(draft ?? shown);
    if (theirs === null && (p.map?.get(p.field) ?? undefined) === (startedFrom.current ?? undefined)) setDraft(null);
    conn.blur();
    if (lockable) conn.unlock(fieldPath);
  };
  const onChange = (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>): void => {
    const v = e.target.value;
    setDraft(v);
    conn.typing(p.section, p.field, p.visitId);
    if (p.kind === 'select' || p.kind === 'date') return commit(v);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => commit(v), COMMIT_DELAY_MS);
  };

  const common = {
    id: `f-${p.visitId}-${p.section}-${p.field}`,
    name: p.field,
    'data-field': `${p.section}.${p.field}`,
    value: shown,
    disabled,
    onFocus,
    onBlur,
    onChange,
  };
  const num = p.kind === 'number' && shown !== '' ? Number(shown) : null;
  const outside = p.normal && num !== null && Number.isFinite(num) && (num < p.normal[0] || num > p.normal[1]);

  return (
    <div className={`field${holder ? ' locked' : ''}${outside ? ' abnormal' : ''}`}>
      <label htmlFor={common.id}>
        {p.label}
        {p.unit && <span className="unit"> ({p.unit})</span>}
      </label>
      {p.kind === 'textarea' ? (
        <textarea rows={3} {...common} />
      ) : p.kind === 'select' ? (
        <select {...common}>
          <option value="">—</option>
          {p.options?.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      ) : (
        <input
          type={p.kind === 'number' ? 'text' : p.kind}
          inputMode={p.kind === 'number' ? 'decimal' : undefined}
          autoComplete="off"
          {...common}
        />
      )}
      {p.normal && (
        <span className="hint">
          Normal {p.normal[0]}–{p.normal[1]} {p.unit}
          {outside && <strong className="flag"> · outside normal range</strong>}
        </span>
      )}
      {holder && <span className="lock-note" role="status"><LockIcon /> {holder.name} is editing this</span>}
      {!holder && lockRefusal && <span className="lock-note" role="status"><LockIcon /> {lockRefusal}</span>}
      {error && <span className="error">{error}</span>}
      {theirs && (
        <div className="refusal" role="alert" data-changed-meanwhile={fieldPath}>
          <strong>Changed by someone else while you typed:</strong> <q>{theirs.value === undefined || theirs.value === null ? '(empty)' : String(theirs.value)}</q>.
          {' '}Yours (not saved yet): <q>{draft ?? ''}</q>{' '}
          <button type="button" className="small" onClick={() => {
            startedFrom.current = p.map?.get(p.field);
            setTheirs(null);
            commit(draft ?? '');
            setDraft(null);
          }}>Keep mine</button>{' '}
          <button type="button" className="small" onClick={() => {
            startedFrom.current = p.map?.get(p.field);
            setTheirs(null);
            setDraft(null);
          }}>Keep theirs</button>
        </div>
      )}
      <ConflictsAt match={(path) => path === fieldPath} canResolve={p.editable} />
    </div>
  );
}
