// Two people on one record in two real browsers: each sees the other arrive, what they are doing,
// their labelled caret in the notes, and their edits, live.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { nurseAndClinicianOn, serverAndBrowser, type Person } from './browser.js';

let srv: RunningServer;
let browser: Browser;
let nurse: Person;
let clinician: Person;
let patientId: string;

serverAndBrowser((s, b) => {
  srv = s;
  browser = b;
});
beforeAll(async () => {
  let patient: { id: string };
  ({ patient, nurse, clinician } = await nurseAndClinicianOn(browser, srv.url, 'Mutua'));
  patientId = patient.id;
});


describe('two users on one record', () => {
  it('each sees the other on the record with name and role', async () => {
    await nurse.page.locator('[data-presence] [data-peer=clinician]', { hasText: 'Dr. James Otieno (Clinical officer)' }).waitFor();
    await clinician.page.locator('[data-presence] [data-peer=nurse]', { hasText: 'Sarah Achieng (Nurse)' }).waitFor();
  });

  it('typing in the notes shows as typing, with a caret labelled with the typist, and the text arrives', async () => {
    await clinician.page.click('.notes-editor');
    await clinician.page.keyboard.type('Chest pain on exertion, ECG advised.');
    const peer = nurse.page.locator('[data-presence] [data-peer=clinician]');
    await expect.poll(() => peer.textContent()).toContain('is typing in the consultation notes');
    await expect.poll(() => nurse.page.locator('.notes-editor').textContent()).toContain('Chest pain on exertion, ECG advised.');
    await nurse.page.locator('.collaboration-carets__label', { hasText: 'Dr. James Otieno' }).waitFor();
    // The nurse may read the notes but not write them.
    expect(await nurse.page.locator('.notes-editor').getAttribute('contenteditable')).toBe('false');
  });

  it('a nurse editing triage shows live on the clinician\'s screen, with who changed it', async () => {
    const field = nurse.page.locator('[data-field="triage.chiefComplaint"]');
    await field.click();
    await field.press('End');
    await nurse.page.keyboard.type(' and shortness of breath');
    await expect.poll(() => clinician.page.locator('[data-presence] [data-peer=nurse]').textContent()).toContain('is typing in triage');
    const theirs = clinician.page.locator('[data-field="triage.chiefComplaint"]');
    await expect.poll(() => theirs.inputValue(), { timeout: 10_000 }).toContain('and shortness of breath');
    await expect.poll(() => clinician.page.locator('[data-section=triage] [data-last-change]').textContent())
      .toContain('Last changed by Sarah Achieng (Nurse)');
    // The clinician cannot type into triage; the nurse's screen says her change is on the server's disk.
    expect(await theirs.isDisabled()).toBe(true);
    await nurse.page.locator('[data-testid=sync-status][data-state=saved]').waitFor();
  });

  it('a field the nurse has locked shows who holds it, and is released when she leaves it', async () => {
    await nurse.page.focus('[data-field="triage.category"]');
    await clinician.page.locator('[data-section=triage] .lock-note', { hasText: 'Sarah Achieng is editing this' }).waitFor();
    await nurse.page.locator('[data-field="triage.chiefComplaint"]').focus();
    await clinician.page.locator('[data-section=triage] .lock-note').waitFor({ state: 'detached' });
  });
});
