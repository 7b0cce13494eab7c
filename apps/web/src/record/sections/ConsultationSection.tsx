// The consultation's plan and follow-up (clinical officer); the notes have their own editor.
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { MapField } from '../fields/MapField.js';
import { useSection, type SectionProps } from './common.js';

export function ConsultationSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'consultation');
  const f = { map: s.type, unitPath: s.unitPath, section: s.section, visitId, editable: s.editable };
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      <div className="grid">
        <MapField {...f} field="plan" label="Plan" kind="textarea" />
        <MapField {...f} field="followUp" label="Follow-up" kind="text" />
      </div>
    </SectionCard>
  );
}
