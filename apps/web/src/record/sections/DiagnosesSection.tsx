// Diagnoses (clinical officer), coded in ICD-10 and found by name or code. The list is locked to one
// editor at a time while someone is searching or changing it.
import { useState } from 'react';
import { DIAGNOSIS_CERTAINTY, newId, searchIcd10 } from '@pamoja/schema';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { useYDeep, entriesOf } from '../hooks/useY.js';
import { useUnitLock } from '../fields/useUnitLock.js';
import { ConflictsAt } from '../conflicts/ConflictNotice.js';
import { humanize } from '../format.js';
import { nowIso, useSection, type SectionProps } from './common.js';
import { LockIcon } from '../../shell/icons.js';

interface Diagnosis { code: string; display?: string; certainty?: string; at?: string }

export function DiagnosesSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'diagnoses');
  useYDeep(s.type);
  const lock = useUnitLock(s.unitPath, s.section, visitId);
  const [q, setQ] = useState('');
  const disabled = !s.editable || lock.holder !== null;
  const results = q.trim().length >= 2 ? searchIcd10(q, 8) : [];
  const entries = entriesOf<Diagnosis>(s.type);
  const add = (code: string, display: string): void => {
    s.type?.set(newId(), { code, display, certainty: 'PROVISIONAL', at: nowIso() });
    setQ('');
  };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      {entries.length === 0 && <p className="muted">No diagnosis yet.</p>}
      <ul className="entries">
        {entries.map(([id, d]) => (
          <li key={id} data-entry={id}>
            <span className="code">{d.code}</span> {d.display}
            <select aria-label={`Certainty of ${d.code}`} value={d.certainty ?? 'PROVISIONAL'} disabled={disabled}
              onFocus={lock.onFocus} onBlur={lock.onBlur}
              onChange={(e) => s.type?.set(id, { ...d, certainty: e.target.value })}>
              {DIAGNOSIS_CERTAINTY.map((c) => <option key={c} value={c}>{humanize(c)}</option>)}
            </select>
            {s.editable && <button type="button" className="small" disabled={disabled} onClick={() => s.type?.delete(id)}>Remove</button>}
          </li>
        ))}
      </ul>
      {s.editable && (
        <div className="icd-search">
          <label htmlFor={`icd-${visitId}`}>Add a diagnosis (ICD-10 name or code)</label>
          <input id={`icd-${visitId}`} type="search" value={q} disabled={disabled} placeholder="e.g. malaria or B54"
            autoComplete="off" data-field="diagnoses.search"
            onFocus={lock.onFocus} onBlur={lock.onBlur} onChange={(e) => setQ(e.target.value)} />
          {results.length > 0 && (
            <ul className="suggestions" role="listbox">
              {results.map((r) => (
                <li key={r.code}>
                  <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => add(r.code, r.display)}>
                    <span className="code">{r.code}</span> {r.display}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {lock.holder && <p className="lock-note" role="status"><LockIcon /> {lock.holder.name} is editing the diagnoses</p>}
      {!lock.holder && lock.refusal && <p className="lock-note" role="status"><LockIcon /> {lock.refusal}</p>}
      <ConflictsAt match={(p) => p.startsWith(`${s.unitPath}/`)} canResolve={s.editable} />
    </SectionCard>
  );
}
