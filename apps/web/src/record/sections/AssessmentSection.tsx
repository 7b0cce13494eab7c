// The nurse's initial assessment: free text that several nurses may write together.
import type * as Y from 'yjs';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { TextBinding } from '../fields/TextBinding.js';
import { useSection, type SectionProps } from './common.js';

export function AssessmentSection({ visitId }: SectionProps) {
  const s = useSection<Y.Text>(visitId, 'assessment');
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      <TextBinding text={s.type} label="Assessment" editable={s.editable} section={s.section} visitId={visitId} />
    </SectionCard>
  );
}
