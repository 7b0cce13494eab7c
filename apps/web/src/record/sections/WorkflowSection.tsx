// Where the visit is in the clinic's day, and the hand-offs this role may make from here.
import type { VisitStatus } from '@pamoja/schema';
import { nextSteps, QUEUE_ROLE, ROLE_LABELS } from '@pamoja/permissions';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { useYDeep } from '../hooks/useY.js';
import { statusLabel } from '../format.js';
import { nowIso, useSection, type SectionProps } from './common.js';

export function WorkflowSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'workflow');
  useYDeep(s.type);
  const status = (s.type?.get('status') as VisitStatus | undefined) ?? 'REGISTERED';
  const steps = nextSteps(s.role, status);
  const queue = QUEUE_ROLE[status];
  const move = (to: VisitStatus): void => {
    s.type?.doc?.transact(() => {
      s.type?.set('status', to);
      s.type?.set('updatedAt', nowIso());
    });
  };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      <p>
        <span className={`step step-${status.toLowerCase()}`} data-status={status}>{statusLabel(status)}</span>
        {queue && <span className="muted"> · in the {ROLE_LABELS[queue].toLowerCase()} queue</span>}
      </p>
      {steps.length > 0 && (
        <div className="actions">
          {steps.map((to) => (
            <button key={to} type="button" onClick={() => move(to)}>Send on: {statusLabel(to)}</button>
          ))}
        </div>
      )}
    </SectionCard>
  );
}
