// A conflict the server found (two people set one field without seeing each other's value), shown on
// the field: both values, who wrote each and when; someone allowed to write the field picks one.
import { useState } from 'react';
import { conflictsOf, type Conflict } from '@pamoja/schema';
import { api } from '../../session/api.js';
import { useRecord } from '../RecordContext.js';
import { useYDeep } from '../hooks/useY.js';
import { formatValue, formatTime } from '../format.js';

export function useConflicts(match: (path: string) => boolean): Conflict[] {
  const { conn } = useRecord();
  const map = conflictsOf(conn.doc);
  useYDeep(map);
  const out: Conflict[] = [];
  map.forEach((c) => {
    if (c && typeof c === 'object' && !c.resolved && typeof c.path === 'string' && match(c.path)) out.push(c);
  });
  return out.sort((a, b) => a.detectedAt.localeCompare(b.detectedAt));
}

export function ConflictNotice({ conflict, canResolve }: { conflict: Conflict; canResolve: boolean }) {
  const { patientId } = useRecord();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pick = async (value: unknown): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/patients/${encodeURIComponent(patientId)}/conflicts/${encodeURIComponent(conflict.id)}/resolve`, { value });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="conflict" role="alert" data-conflict={conflict.path}>
      <strong>Two different values were entered here.</strong>{' '}
      {canResolve ? 'Choose the one to keep:' : 'Someone allowed to change this field must choose one.'}
      <ul>
        {conflict.values.map((v, i) => (
          <li key={i}>
            <span className="conflict-value">{formatValue(v.value)}</span>
            <span className="muted"> by {v.name ?? v.username ?? 'someone'} at {formatTime(v.at)}</span>
            {canResolve && (
              <button type="button" className="small" disabled={busy} onClick={() => void pick(v.value)}>
                Keep this
              </button>
            )}
          </li>
        ))}
      </ul>
      {error && <p className="error">{error}</p>}
    </div>
  );
}

export function ConflictsAt({ match, canResolve }: { match: (path: string) => boolean; canResolve: boolean }) {
  const conflicts = useConflicts(match);
  return <>{conflicts.map((c) => <ConflictNotice key={c.id} conflict={c} canResolve={canResolve} />)}</>;
}
