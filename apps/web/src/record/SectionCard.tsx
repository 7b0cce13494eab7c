// The frame of one section of the record: its title, whether I may change it (from the same matrix
// the server enforces), who last changed it, who is in it now, and any refusal that happened here.
import type { ReactNode } from 'react';
import { parseUnitPath } from '@pamoja/schema';
import { canWrite, refusalReason, UNIT_LABELS } from '@pamoja/permissions';
import { useRecord } from './RecordContext.js';
import { useStore } from './connection/store.js';
import { formatTime } from './format.js';
import { describeActivity } from './presence/describe.js';

export function SectionCard({ title, unitPath, children }: { title: string; unitPath: string; children: ReactNode }) {
  const { conn, role } = useRecord();
  const editable = canWrite(role, unitPath);
  const unit = parseUnitPath(unitPath);
  const last = useStore(conn.history.changes).get(unitPath);
  const peers = useStore(conn.peers).filter((p) => p.section === unit?.section || p.section === unitPath);
  const refusals = useStore(conn.refusals).filter((r) => r.path === unitPath || r.path.startsWith(`${unitPath}/`));
  const section = unit?.section ?? unitPath;
  return (
    <section className={`card${editable ? '' : ' readonly'}`} data-section={section} aria-label={title}>
      <header>
        <h3>{title}</h3>
        <span className={`badge ${editable ? 'yours' : ''}`} title={editable || !unit ? undefined : refusalReason(role, unit.kind)}>
          {editable ? 'You can edit' : 'Read only'}
        </span>
      </header>
      {!editable && unit && <p className="why muted">{refusalReason(role, unit.kind)}.</p>}
      {(last || peers.length > 0) && (
        <div className="section-meta">
          {last && (
            <span className="last-change" data-last-change>
              Last changed by {last.mine ? 'you' : `${last.name} (${last.roleLabel})`} at {formatTime(last.at)}
            </span>
          )}
          {peers.map((p) => (
            <span key={p.clientId} className="peer-chip" style={{ borderColor: p.user.color }}>
              {describeActivity(p, false)}
            </span>
          ))}
        </div>
      )}
      {refusals.map((r) => (
        <div key={r.id} className="refusal" role="alert" data-refusal={r.path}>
          <strong>Not saved:</strong> {r.reason}. The server undid this change.
          {shownValue(r.tried) !== null && <> You entered: <q className="refused-value">{shownValue(r.tried)}</q></>}
          <button type="button" className="small link" onClick={() => conn.dismissRefusal(r.id)}>Dismiss</button>
        </div>
      ))}
      {children}
    </section>
  );
}

/** What a refused change held, as the person typed it; null when there is nothing to show. */
function shownValue(tried: unknown): string | null {
  if (tried === null || tried === undefined || tried === '') return null;
  if (typeof tried === 'string') return /^\(Y\w+\)$/.test(tried) ? null : tried;
  if (typeof tried === 'number' || typeof tried === 'boolean') return String(tried);
  return JSON.stringify(tried);
}

export const sectionTitle = (unitPath: string): string => {
  const unit = parseUnitPath(unitPath);
  const label = unit ? UNIT_LABELS[unit.kind].replace(/^the /, '') : unitPath;
  return label.charAt(0).toUpperCase() + label.slice(1);
};
