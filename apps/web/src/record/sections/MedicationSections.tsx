// Prescriptions (clinical officer) and their dispensing (pharmacist), two maps keyed by the same id.
import { DISPENSE_STATUSES } from '@pamoja/schema';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { EntryForm } from '../fields/EntryForm.js';
import { useYDeep, entriesOf } from '../hooks/useY.js';
import { humanize } from '../format.js';
import { nowIso, useSection, type SectionProps } from './common.js';

interface Prescription { drug: string; dose?: string; route?: string; frequency?: string; durationDays?: number; quantity?: number; instructions?: string }
interface Dispensing { status: string; quantity?: number; dispensedAt?: string; notes?: string }

const describeRx = (p: Prescription): string =>
  [p.dose, p.route, p.frequency, p.durationDays !== undefined ? `${p.durationDays} days` : '', p.quantity !== undefined ? `qty ${p.quantity}` : '']
    .filter(Boolean).join(' · ');

export function PrescriptionsSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'prescriptions');
  useYDeep(s.type);
  const list = entriesOf<Prescription>(s.type);
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      {list.length === 0 && <p className="muted">Nothing prescribed.</p>}
      <ul className="entries">
        {list.map(([id, p]) => <li key={id}><strong>{p.drug}</strong> <span className="muted">{describeRx(p)}</span></li>)}
      </ul>
      {s.editable && (
        <EntryForm map={s.type} section={s.section} visitId={visitId} disabled={!s.editable} submitLabel="Prescribe"
          inputs={[
            { key: 'drug', label: 'Drug', kind: 'text', required: true },
            { key: 'dose', label: 'Dose', kind: 'text' },
            { key: 'route', label: 'Route', kind: 'text' },
            { key: 'frequency', label: 'Frequency', kind: 'text' },
            { key: 'durationDays', label: 'Days', kind: 'number' },
            { key: 'quantity', label: 'Quantity', kind: 'number' },
          ]} />
      )}
    </SectionCard>
  );
}

export function DispensingSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'dispensing');
  const rx = useSection(visitId, 'prescriptions');
  useYDeep(s.type);
  useYDeep(rx.type);
  const list = entriesOf<Prescription>(rx.type);
  const put = (id: string, status: string, quantity?: number): void => {
    const old = s.type?.get(id) as Dispensing | undefined;
    s.type?.set(id, { ...old, status, ...(quantity !== undefined ? { quantity } : {}), ...(status === 'DISPENSED' ? { dispensedAt: nowIso() } : {}) });
  };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      {list.length === 0 && <p className="muted">Nothing to dispense.</p>}
      {list.map(([id, p]) => {
        const d = s.type?.get(id) as Dispensing | undefined;
        return (
          <div key={id} className="result-row" data-entry={id}>
            <strong>{p.drug}</strong>
            <label className="field">Status
              <select value={d?.status ?? 'PENDING'} disabled={!s.editable} onChange={(e) => put(id, e.target.value, d?.quantity ?? p.quantity)}>
                {DISPENSE_STATUSES.map((x) => <option key={x} value={x}>{humanize(x)}</option>)}
              </select>
            </label>
          </div>
        );
      })}
    </SectionCard>
  );
}
