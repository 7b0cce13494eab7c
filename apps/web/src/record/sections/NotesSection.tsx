// The consultation notes section: the shared rich-text note of this visit.
import type * as Y from 'yjs';
import { SectionCard, sectionTitle } from '../SectionCard.js';
import { NotesEditor } from '../notes/NotesEditor.js';
import { useSection, type SectionProps } from './common.js';

export function NotesSection({ visitId }: SectionProps) {
  const s = useSection<Y.XmlFragment>(visitId, 'notes');
  return (
    <SectionCard title={sectionTitle(s.unitPath)} unitPath={s.unitPath}>
      {s.type ? <NotesEditor fragment={s.type} visitId={visitId} editable={s.editable} /> : <p className="muted">No notes yet.</p>}
    </SectionCard>
  );
}
