// Vital signs (nurse), each with its unit and the normal adult range as a hint (LOINC-coded in the schema).
import { MAP_SPECS, VITAL_SIGNS } from '@pamoja/schema';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { MapField } from '../fields/MapField.js';
import { nowIso, useSection, type SectionProps } from './common.js';

export function VitalsSection({ visitId }: SectionProps) {
  const s = useSection(visitId, 'vitals');
  const keys = MAP_SPECS['visits/*/vitals']!.keys!;
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      <div className="grid vitals">
        {VITAL_SIGNS.map((v) => {
          const spec = keys[v.key];
          const range = spec?.type === 'number' ? spec : undefined;
          return (
            <MapField key={v.key} map={s.type} unitPath={s.unitPath} section={s.section} visitId={visitId}
              editable={s.editable} field={v.key} label={v.display} kind="number" unit={v.unit} normal={v.normal}
              min={range?.min} max={range?.max} alsoSet={() => ({ recordedAt: nowIso() })} />
          );
        })}
      </div>
    </SectionCard>
  );
}
