// Registration of this visit: how the patient pays and where they are seen (receptionist).
import { PAYMENT_TYPES } from '@pamoja/schema';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { MapField } from '../fields/MapField.js';
import { formatTime } from '../format.js';
import { useYDeep } from '../hooks/useY.js';
import { optionsOf, useSection, type SectionProps } from './common.js';

export function RegistrationSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'registration');
  useYDeep(s.type);
  const f = { map: s.type, unitPath: s.unitPath, section: s.section, visitId, editable: s.editable };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      <p className="muted">Visit opened {formatTime(String(s.type?.get('openedAt') ?? ''))}</p>
      <div className="grid">
        <MapField {...f} field="paymentType" label="Payment type" kind="select" options={optionsOf(PAYMENT_TYPES)} />
        <MapField {...f} field="paymentReference" label="Insurance / payment reference" kind="text" />
        <MapField {...f} field="department" label="Department" kind="text" />
      </div>
    </SectionCard>
  );
}
