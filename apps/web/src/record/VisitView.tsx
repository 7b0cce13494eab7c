// Every section of one visit, in the order the patient moves through the clinic.
import { RegistrationSection } from './sections/RegistrationSection.js';
import { TriageSection } from './sections/TriageSection.js';
import { VitalsSection } from './sections/VitalsSection.js';
import { AssessmentSection } from './sections/AssessmentSection.js';
import { ConsultationSection } from './sections/ConsultationSection.js';
import { NotesSection } from './sections/NotesSection.js';
import { DiagnosesSection } from './sections/DiagnosesSection.js';
import { LabOrdersSection, LabResultsSection } from './sections/LabSections.js';
import { PrescriptionsSection, DispensingSection } from './sections/MedicationSections.js';
import { BillingSection, PaymentsSection } from './sections/BillingSections.js';
import { WorkflowSection } from './sections/WorkflowSection.js';

const SECTIONS = [
  WorkflowSection, RegistrationSection, TriageSection, VitalsSection, AssessmentSection, ConsultationSection,
  NotesSection, DiagnosesSection, LabOrdersSection, LabResultsSection, PrescriptionsSection, DispensingSection,
  BillingSection, PaymentsSection,
];

export function VisitView({ visitId }: { visitId: string }) {
  return (
    <div className="visit" data-visit={visitId}>
      {SECTIONS.map((S, i) => <S key={i} visitId={visitId} />)}
    </div>
  );
}
