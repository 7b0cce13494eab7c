// A role cannot change another role's section: the control is disabled (the same matrix the server
// enforces), and a write forced past the disabled control is undone by the server and explained.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as Y from 'yjs';
import { docNameFor, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { nurseAndClinicianOn, serverAndBrowser, type Person } from './browser.js';

let srv: RunningServer;
let browser: Browser;
let nurse: Person;
let clinician: Person;
let patient: { id: string; visitId: string };

serverAndBrowser((s, b) => {
  srv = s;
  browser = b;
});
beforeAll(async () => {
  ({ patient, nurse, clinician } = await nurseAndClinicianOn(browser, srv.url, 'Mutua'));
});


const planOnServer = (): unknown =>
  sectionOf<Y.Map<unknown>>(srv.hub.rooms.get(docNameFor(patient.id))!.doc, patient.visitId, 'consultation')?.get('plan');

describe('role boundaries in the browser', () => {
  it('shows other roles\' sections read-only and the nurse\'s own sections editable', async () => {
    const page = nurse.page;
    expect(await page.locator('[data-field="consultation.plan"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-field="billing.amountDue"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-field="triage.chiefComplaint"]').isEnabled()).toBe(true);
    expect(await page.locator('[data-field="vitals.temperature"]').isEnabled()).toBe(true);
    expect(await page.locator('[data-section=consultation] .why').textContent()).toContain('Nurses cannot change the consultation');
    expect(await page.locator('[data-section=vitals] .badge').textContent()).toBe('You can edit');
    // And the other way round for the clinician.
    expect(await clinician.page.locator('[data-field="consultation.plan"]').isEnabled()).toBe(true);
    expect(await clinician.page.locator('[data-field="vitals.temperature"]').isDisabled()).toBe(true);
  });

  it('a write forced past the disabled control is reverted by the server and explained', async () => {
    const page = nurse.page;
    const plan = page.locator('[data-field="consultation.plan"]');
    // What someone with the browser's developer tools could do.
    await plan.evaluate((el) => el.removeAttribute('disabled'));
    await plan.fill('Give aspirin 300 mg');
    await page.locator('[data-field="vitals.heartRate"]').focus();

    const refusal = page.locator('[data-section=consultation] [data-refusal]');
    await refusal.waitFor({ timeout: 10_000 });
    expect(await refusal.textContent()).toContain('Nurses cannot change the consultation');
    expect(await refusal.textContent()).toContain('The server undid this change');
    await expect.poll(() => plan.inputValue()).toBe('');
    expect(planOnServer()).toBeUndefined();
    // The clinician never saw it.
    expect(await clinician.page.locator('[data-field="consultation.plan"]').inputValue()).toBe('');
    // The nurse's own work still saves.
    await page.fill('[data-field="vitals.heartRate"]', '96');
    await page.locator('[data-field="vitals.spo2"]').focus();
    await page.locator('[data-testid=sync-status][data-state=saved]').waitFor();
    await expect.poll(() => clinician.page.locator('[data-field="vitals.heartRate"]').inputValue()).toBe('96');
  });
});
