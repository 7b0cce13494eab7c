// The patient record shared by server and web app: units, field shapes, vital signs, typed helpers.
export * from './units.js';
export * from './fields.js';
export * from './json.js';
export * from './text-size.js';
export * from './vitals.js';
export * from './record.js';
export * from './icd10.js';
export * from './locks.js';
export * from './lists.js';
