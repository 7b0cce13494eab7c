// A short list of ICD-10 codes common in outpatient clinics, searchable by code or name.

export interface Icd10Code {
  code: string;
  display: string;
}

export const ICD10_COMMON: readonly Icd10Code[] = [
  { code: 'A01.0', display: 'Typhoid fever' },
  { code: 'A06.0', display: 'Acute amoebic dysentery' },
  { code: 'A09', display: 'Infectious gastroenteritis and colitis, unspecified' },
  { code: 'A15.0', display: 'Tuberculosis of lung' },
  { code: 'B05.9', display: 'Measles without complication' },
  { code: 'B20', display: 'HIV disease' },
  { code: 'B50.9', display: 'Plasmodium falciparum malaria, unspecified' },
  { code: 'B54', display: 'Unspecified malaria' },
  { code: 'B35.4', display: 'Tinea corporis' },
  { code: 'B37.3', display: 'Candidiasis of vulva and vagina' },
  { code: 'B77.9', display: 'Ascariasis, unspecified' },
  { code: 'D50.9', display: 'Iron deficiency anaemia, unspecified' },
  { code: 'D64.9', display: 'Anaemia, unspecified' },
  { code: 'E11.9', display: 'Type 2 diabetes mellitus without complications' },
  { code: 'E10.9', display: 'Type 1 diabetes mellitus without complications' },
  { code: 'E44.0', display: 'Moderate protein-energy malnutrition' },
  { code: 'E86', display: 'Volume depletion (dehydration)' },
  { code: 'F32.9', display: 'Depressive episode, unspecified' },
  { code: 'F41.1', display: 'Generalized anxiety disorder' },
  { code: 'G40.9', display: 'Epilepsy, unspecified' },
  { code: 'G43.9', display: 'Migraine, unspecified' },
  { code: 'H10.9', display: 'Conjunctivitis, unspecified' },
  { code: 'H66.9', display: 'Otitis media, unspecified' },
  { code: 'I10', display: 'Essential (primary) hypertension' },
  { code: 'I20.9', display: 'Angina pectoris, unspecified' },
  { code: 'I21.9', display: 'Acute myocardial infarction, unspecified' },
  { code: 'I50.9', display: 'Heart failure, unspecified' },
  { code: 'I64', display: 'Stroke, not specified as haemorrhage or infarction' },
  { code: 'J00', display: 'Acute nasopharyngitis (common cold)' },
  { code: 'J02.9', display: 'Acute pharyngitis, unspecified' },
  { code: 'J03.9', display: 'Acute tonsillitis, unspecified' },
  { code: 'J06.9', display: 'Acute upper respiratory infection, unspecified' },
  { code: 'J18.9', display: 'Pneumonia, unspecified organism' },
  { code: 'J20.9', display: 'Acute bronchitis, unspecified' },
  { code: 'J45.9', display: 'Asthma, unspecified' },
  { code: 'J44.9', display: 'Chronic obstructive pulmonary disease, unspecified' },
  { code: 'K21.9', display: 'Gastro-oesophageal reflux disease without oesophagitis' },
  { code: 'K29.7', display: 'Gastritis, unspecified' },
  { code: 'K30', display: 'Functional dyspepsia' },
  { code: 'K35.8', display: 'Acute appendicitis, other and unspecified' },
  { code: 'K59.0', display: 'Constipation' },
  { code: 'L01.0', display: 'Impetigo' },
  { code: 'L03.9', display: 'Cellulitis, unspecified' },
  { code: 'L30.9', display: 'Dermatitis, unspecified' },
  { code: 'M54.5', display: 'Low back pain' },
  { code: 'M79.1', display: 'Myalgia' },
  { code: 'M25.5', display: 'Pain in joint' },
  { code: 'N39.0', display: 'Urinary tract infection, site not specified' },
  { code: 'N73.9', display: 'Female pelvic inflammatory disease, unspecified' },
  { code: 'O21.0', display: 'Mild hyperemesis gravidarum' },
  { code: 'R05', display: 'Cough' },
  { code: 'R07.4', display: 'Chest pain, unspecified' },
  { code: 'R10.4', display: 'Other and unspecified abdominal pain' },
  { code: 'R50.9', display: 'Fever, unspecified' },
  { code: 'R51', display: 'Headache' },
  { code: 'S01.9', display: 'Open wound of head, part unspecified' },
  { code: 'S61.9', display: 'Open wound of wrist and hand, part unspecified' },
  { code: 'S93.4', display: 'Sprain and strain of ankle' },
  { code: 'T14.1', display: 'Open wound of unspecified body region' },
  { code: 'T63.0', display: 'Toxic effect of snake venom' },
  { code: 'Z00.0', display: 'General medical examination' },
  { code: 'Z34.9', display: 'Supervision of normal pregnancy, unspecified' },
];

/** Finds codes by code prefix or words in the name, best matches first. */
export function searchIcd10(query: string, limit = 10): Icd10Code[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const scored: { c: Icd10Code; score: number }[] = [];
  for (const c of ICD10_COMMON) {
    const code = c.code.toLowerCase();
    const name = c.display.toLowerCase();
    let score = 0;
    if (code === q) score = 100;
    else if (code.startsWith(q)) score = 80;
    else if (name.startsWith(q)) score = 60;
    else if (name.split(/[\s,()-]+/).some((w) => w.startsWith(q))) score = 40;
    else if (name.includes(q)) score = 20;
    if (score) scored.push({ c, score });
  }
  return scored.sort((a, b) => b.score - a.score || a.c.code.localeCompare(b.c.code)).slice(0, limit).map((s) => s.c);
}

export function icd10ByCode(code: string): Icd10Code | undefined {
  return ICD10_COMMON.find((c) => c.code === code);
}
