// Billing and payments (cashier). Amounts and payment status are locked to one editor at a time.
import { PAYMENT_STATUSES, PAYMENT_TYPES } from '@pamoja/schema';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { MapField } from '../fields/MapField.js';
import { EntryForm } from '../fields/EntryForm.js';
import { useUnitLock } from '../fields/useUnitLock.js';
import { useYDeep, entriesOf } from '../hooks/useY.js';
import { formatTime, humanize } from '../format.js';
import { optionsOf, useSection, type SectionProps } from './common.js';
import { LockIcon } from '../../shell/icons.js';

interface Payment { amount: number; method?: string; reference?: string; at?: string }

export function BillingSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'billing');
  const f = { map: s.type, unitPath: s.unitPath, section: s.section, visitId, editable: s.editable };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      <div className="grid">
        <MapField {...f} field="amountDue" label="Amount due" kind="number" min={0} max={1e9} />
        <MapField {...f} field="amountPaid" label="Amount paid" kind="number" min={0} max={1e9} />
        <MapField {...f} field="paymentStatus" label="Payment status" kind="select" options={optionsOf(PAYMENT_STATUSES)} />
        <MapField {...f} field="currency" label="Currency" kind="text" />
      </div>
    </SectionCard>
  );
}

export function PaymentsSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'payments');
  useYDeep(s.type);
  const lock = useUnitLock(s.unitPath, s.section, visitId);
  const list = entriesOf<Payment>(s.type);
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      {list.length === 0 && <p className="muted">No payments.</p>}
      <ul className="entries">
        {list.map(([id, p]) => (
          <li key={id}><strong>{p.amount}</strong> {humanize(p.method ?? 'CASH')} {p.reference} <span className="muted">{formatTime(p.at)}</span></li>
        ))}
      </ul>
      {lock.holder && <p className="lock-note" role="status"><LockIcon /> {lock.holder.name} is recording a payment</p>}
      {s.editable && (
        <EntryForm map={s.type} section={s.section} visitId={visitId} disabled={!s.editable || lock.holder !== null}
          submitLabel="Record payment" onFocus={lock.onFocus} onBlur={lock.onBlur}
          inputs={[
            { key: 'amount', label: 'Amount', kind: 'number', required: true },
            { key: 'method', label: 'Method', kind: 'select', options: optionsOf(PAYMENT_TYPES) },
            { key: 'reference', label: 'Reference', kind: 'text' },
          ]} />
      )}
    </SectionCard>
  );
}
