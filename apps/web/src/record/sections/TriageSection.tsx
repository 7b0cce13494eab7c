// Triage (nurse): how urgent, and why the patient came.
import { TRIAGE_CATEGORIES } from '@pamoja/schema';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { MapField } from '../fields/MapField.js';
import { nowIso, optionsOf, useSection, type SectionProps } from './common.js';

export function TriageSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'triage');
  const f = { map: s.type, unitPath: s.unitPath, section: s.section, visitId, editable: s.editable };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      <div className="grid">
        <MapField {...f} field="category" label="Triage category" kind="select" options={optionsOf(TRIAGE_CATEGORIES)}
          alsoSet={() => ({ triagedAt: nowIso() })} />
        <MapField {...f} field="chiefComplaint" label="Chief complaint" kind="textarea" />
      </div>
    </SectionCard>
  );
}
