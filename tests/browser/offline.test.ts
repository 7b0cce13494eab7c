// A tablet loses its network: the nurse keeps working, reloads the app with no network, and her
// changes are still there; when the network returns they reach the server and the clinician.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import * as Y from 'yjs';
import { docNameFor, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { nurseAndClinicianOn, offlineReady, openRecord, serverAndBrowser, signInOn, type Person } from './browser.js';

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
  ({ patient, nurse, clinician } = await nurseAndClinicianOn(browser, srv.url, 'Hassan'));
  await offlineReady(nurse.page);
});


const onServer = (section: 'triage' | 'vitals', key: string): unknown => {
  const room = srv.hub.rooms.get(docNameFor(patient.id));
  return room ? sectionOf<Y.Map<unknown>>(room.doc, patient.visitId, section)?.get(key) : undefined;
};

describe('offline tablet', () => {
  it('keeps edits made offline through a reload, then syncs them on reconnect', async () => {
    const page = nurse.page;
    await nurse.context.setOffline(true);
    await page.locator('[data-testid=sync-status][data-state=offline]').waitFor();
    await page.locator('[data-testid=network]', { hasText: 'Offline' }).waitFor();

    await page.fill('[data-field="triage.chiefComplaint"]', 'Cough for two weeks, night sweats');
    await page.fill('[data-field="vitals.temperature"]', '38.4');
    await page.locator('[data-field="vitals.heartRate"]').focus(); // leaving a field writes it
    await expect.poll(() => page.locator('[data-testid=sync-status]').textContent()).toContain('kept on this device');

    // The app shell comes from the service worker, the record from this user's IndexedDB copy.
    await page.reload();
    await page.locator('[data-testid=sync-status][data-state=offline]').waitFor();
    expect(await page.locator('[data-field="triage.chiefComplaint"]').inputValue()).toBe('Cough for two weeks, night sweats');
    expect(await page.locator('[data-field="vitals.temperature"]').inputValue()).toBe('38.4');
    expect(await page.locator('[data-testid=sync-status]').textContent()).toContain('will be sent when the network is back');

    // Nothing has left the tablet yet.
    expect(onServer('triage', 'chiefComplaint')).toBeUndefined();
    expect(await clinician.page.locator('[data-field="triage.chiefComplaint"]').inputValue()).toBe('');

    await nurse.context.setOffline(false);
    await page.locator('[data-testid=sync-status][data-state=saved]').waitFor({ timeout: 15_000 });
    expect(onServer('triage', 'chiefComplaint')).toBe('Cough for two weeks, night sweats');
    expect(onServer('vitals', 'temperature')).toBe(38.4);
    await expect.poll(() => clinician.page.locator('[data-field="triage.chiefComplaint"]').inputValue(), { timeout: 10_000 })
      .toBe('Cough for two weeks, night sweats');
    expect(await clinician.page.locator('[data-field="vitals.temperature"]').inputValue()).toBe('38.4');
  });

  it('on a shared tablet, the next user never loads or sends the previous user\'s unsent edits', async () => {
    const page = nurse.page;
    await nurse.context.setOffline(true);
    await page.locator('[data-testid=sync-status][data-state=offline]').waitFor();
    await page.fill('[data-field="triage.chiefComplaint"]', 'Unsent: typed by the nurse offline');
    await page.locator('[data-field="vitals.heartRate"]').focus();
    await expect.poll(() => page.locator('[data-testid=sync-status]').textContent()).toContain('kept on this device');

    // The nurse signs out (offline), told her change stays on the tablet, and the clinician signs in
    // on the same tablet, back online.
    const asked: string[] = [];
    page.once('dialog', (d) => (asked.push(d.message()), void d.accept()));
    await page.click('text=Sign out');
    expect(asked[0]).toMatch(/changes the server has not saved yet\. They stay on this device/);
    await page.waitForSelector('input[name=username]');
    await nurse.context.setOffline(false);
    await signInOn(page, 'clinician');
    await openRecord(page, patient.id);
    expect(await page.locator('[data-field="triage.chiefComplaint"]').inputValue()).toBe('Cough for two weeks, night sweats');
    expect(onServer('triage', 'chiefComplaint')).toBe('Cough for two weeks, night sweats');

    // When the nurse signs back in, her own unsent edit goes out under her name.
    await page.click('text=Sign out');
    await signInOn(page, 'nurse');
    await openRecord(page, patient.id);
    await expect.poll(() => onServer('triage', 'chiefComplaint'), { timeout: 10_000 }).toBe('Unsent: typed by the nurse offline');
  });
});
