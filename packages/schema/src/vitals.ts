// Vital signs with their LOINC codes, units and adult reference ranges (hints, not alarms).

export interface VitalSign {
  key: string;
  loinc: string;
  display: string;
  unit: string;
  /** UCUM unit code for FHIR export. */
  ucum: string;
  normal: [number, number];
}

export const VITAL_SIGNS: readonly VitalSign[] = [
  { key: 'temperature', loinc: '8310-5', display: 'Body temperature', unit: '°C', ucum: 'Cel', normal: [36.1, 37.5] },
  { key: 'heartRate', loinc: '8867-4', display: 'Heart rate', unit: 'beats/min', ucum: '/min', normal: [60, 100] },
  { key: 'respiratoryRate', loinc: '9279-1', display: 'Respiratory rate', unit: 'breaths/min', ucum: '/min', normal: [12, 20] },
  { key: 'systolic', loinc: '8480-6', display: 'Systolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]', normal: [90, 130] },
  { key: 'diastolic', loinc: '8462-4', display: 'Diastolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]', normal: [60, 85] },
  { key: 'spo2', loinc: '59408-5', display: 'Oxygen saturation (pulse oximetry)', unit: '%', ucum: '%', normal: [95, 100] },
  { key: 'weight', loinc: '29463-7', display: 'Body weight', unit: 'kg', ucum: 'kg', normal: [2, 200] },
  { key: 'height', loinc: '8302-2', display: 'Body height', unit: 'cm', ucum: 'cm', normal: [45, 210] },
  { key: 'painScore', loinc: '72514-3', display: 'Pain severity (0-10)', unit: '/10', ucum: '{score}', normal: [0, 3] },
];

export function vitalByKey(key: string): VitalSign | undefined {
  return VITAL_SIGNS.find((v) => v.key === key);
}
