// Who the patient is: demographics and contact details (receptionist edits, everyone reads).
import { SEXES, demographicsOf, contactOf } from '@pamoja/schema';
import { canWrite } from '@pamoja/permissions';
import { SectionCard } from '../SectionCard.js';
import { MapField } from '../fields/MapField.js';
import { useRecord } from '../RecordContext.js';
import { optionsOf } from './common.js';

export function PatientSection({ visitId }: { visitId: string }) {
  const { conn, role } = useRecord();
  const d = { map: demographicsOf(conn.doc), unitPath: 'demographics', section: 'demographics', visitId, editable: canWrite(role, 'demographics') };
  const c = { map: contactOf(conn.doc), unitPath: 'contact', section: 'contact', visitId, editable: canWrite(role, 'contact') };
  return (
    <details className="patient-details">
      <summary>Patient details and contact</summary>
      <SectionCard title="Demographics" unitPath="demographics">
        <div className="grid">
          <MapField {...d} field="firstName" label="First name" kind="text" />
          <MapField {...d} field="lastName" label="Last name" kind="text" />
          <MapField {...d} field="otherNames" label="Other names" kind="text" />
          <MapField {...d} field="sex" label="Sex" kind="select" options={optionsOf(SEXES)} />
          <MapField {...d} field="dateOfBirth" label="Date of birth" kind="date" />
          <MapField {...d} field="nationalId" label="National ID" kind="text" />
        </div>
      </SectionCard>
      <SectionCard title="Contact details" unitPath="contact">
        <div className="grid">
          <MapField {...c} field="phone" label="Phone" kind="text" />
          <MapField {...c} field="address" label="Address" kind="text" />
          <MapField {...c} field="nextOfKinName" label="Next of kin" kind="text" />
          <MapField {...c} field="nextOfKinPhone" label="Next of kin phone" kind="text" />
        </div>
      </SectionCard>
    </details>
  );
}
