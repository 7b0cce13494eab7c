// Lab orders (clinical officer) and their results (lab technician), kept in two maps keyed by the same id.
import { LAB_FLAGS, LAB_RESULT_STATUSES, PRIORITIES } from '@pamoja/schema';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { EntryForm } from '../fields/EntryForm.js';
import { useYDeep, entriesOf } from '../hooks/useY.js';
import { ConflictsAt } from '../conflicts/ConflictNotice.js';
import { humanize } from '../format.js';
import { nowIso, optionsOf, useSection, type SectionProps } from './common.js';

interface LabOrder { test: string; priority?: string; notes?: string; at?: string }
interface LabResult { status: string; value?: string; unit?: string; referenceRange?: string; flag?: string; notes?: string; resultedAt?: string }

export function LabOrdersSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'labOrders');
  useYDeep(s.type);
  const orders = entriesOf<LabOrder>(s.type);
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      {orders.length === 0 && <p className="muted">No tests ordered.</p>}
      <ul className="entries">
        {orders.map(([id, o]) => (
          <li key={id}><strong>{o.test}</strong> <span className="muted">{humanize(o.priority ?? 'NORMAL')} priority</span> {o.notes}</li>
        ))}
      </ul>
      {s.editable && (
        <EntryForm map={s.type} section={s.section} visitId={visitId} disabled={!s.editable} submitLabel="Order test"
          inputs={[
            { key: 'test', label: 'Test', kind: 'text', required: true },
            { key: 'priority', label: 'Priority', kind: 'select', options: optionsOf(['NORMAL', ...PRIORITIES.filter((p) => p !== 'NORMAL')]) },
            { key: 'notes', label: 'Notes', kind: 'text' },
          ]} />
      )}
    </SectionCard>
  );
}

export function LabResultsSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'labResults');
  const orders = useSection(visitId, 'labOrders');
  useYDeep(s.type);
  useYDeep(orders.type);
  const list = entriesOf<LabOrder>(orders.type);
  const put = (id: string, patch: Partial<LabResult>): void => {
    const old = (s.type?.get(id) as LabResult | undefined) ?? { status: 'PENDING' };
    const next = { ...old, ...patch };
    if (next.status === 'COMPLETED' && !next.resultedAt) next.resultedAt = nowIso();
    s.type?.set(id, next);
  };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      {list.length === 0 && <p className="muted">No tests ordered, so no results.</p>}
      {list.map(([id, o]) => {
        const r = s.type?.get(id) as LabResult | undefined;
        return (
          <div key={id} className="result-row" data-entry={id}>
            <strong>{o.test}</strong>
            <label className="field">Status
              <select value={r?.status ?? 'PENDING'} disabled={!s.editable} onChange={(e) => put(id, { status: e.target.value })}>
                {LAB_RESULT_STATUSES.map((x) => <option key={x} value={x}>{humanize(x)}</option>)}
              </select>
            </label>
            <label className="field">Result
              <input defaultValue={r?.value ?? ''} key={`v-${r?.value ?? ''}`} disabled={!s.editable} autoComplete="off"
                onBlur={(e) => e.target.value !== (r?.value ?? '') && put(id, { value: e.target.value })} />
            </label>
            <label className="field">Flag
              <select value={r?.flag ?? ''} disabled={!s.editable} onChange={(e) => put(id, { flag: e.target.value || undefined })}>
                <option value="">—</option>
                {LAB_FLAGS.map((x) => <option key={x} value={x}>{humanize(x)}</option>)}
              </select>
            </label>
            <ConflictsAt match={(p) => p === `${s.unitPath}/${id}`} canResolve={s.editable} />
          </div>
        );
      })}
    </SectionCard>
  );
}
