// The worklist and notifications in real browsers: a queue that moves live as patients are handed
// on, taking a patient, the bell, and a critical lab value that stays on screen until acknowledged.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced } from '../helpers/server.js';
import { openRecord, patientByName, serverAndBrowser, signedIn, type Person } from './browser.js';

let srv: RunningServer;
let browser: Browser;
let nurse: Person;
let clinician: Person;

serverAndBrowser((s, b) => {
  srv = s;
  browser = b;
});
beforeAll(async () => {
  [nurse, clinician] = await Promise.all([signedIn(browser, srv.url, 'nurse'), signedIn(browser, srv.url, 'clinician')]);
  await Promise.all([nurse.page.goto('/#/worklist'), clinician.page.goto('/#/worklist')]);
  await Promise.all([nurse.page.waitForSelector('[data-testid=worklist]'), clinician.page.waitForSelector('[data-testid=day-board]')]);
});


describe('worklist and notifications in the browser', () => {
  it('shows a new patient in the nurses\' queue at once, lets the nurse take them, and hands them on live', async () => {
    const reception = await login(srv.url, 'reception');
    const reg = await api<{ id: string; opNumber: string }>(srv.url, reception, 'POST', '/api/patients', {
      firstName: 'Wanjiku', lastName: 'Browser', sex: 'female', dateOfBirth: '1992-03-03',
    });
    const row = nurse.page.locator(`[data-testid=worklist] [data-patient="${reg.body.opNumber}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => nurse.page.locator('[data-testid=unread-count]').textContent()).not.toBeNull();

    await row.getByRole('button', { name: 'Take' }).click();
    await row.locator('.badge.yours').waitFor();

    // The nurse hands on from the record page; the clinician's worklist follows without a reload.
    await openRecord(nurse.page, reg.body.id);
    await nurse.page.getByRole('button', { name: /Send on: Waiting for consultation/ }).click();
    await clinician.page.locator(`[data-testid=worklist] [data-patient="${reg.body.opNumber}"]`).waitFor({ timeout: 10_000 });
  });

  it('puts a critical lab value in front of the clinician until it is acknowledged', async () => {
    const fatuma = await patientByName(srv.url, 'Odhiambo');
    const lab = stockClient(srv.url, `patient:${fatuma.id}`, await login(srv.url, 'lab'));
    await synced(lab.provider);
    const orderId = [...sectionOf(lab.doc, fatuma.visitId, 'labOrders')!.keys()][0]!;
    sectionOf(lab.doc, fatuma.visitId, 'labResults')!.set(orderId, { status: 'COMPLETED', value: 'P. falciparum 5%', flag: 'CRITICAL' });

    const alert = clinician.page.locator('[data-testid=critical-alert]');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toContain('Fatuma Odhiambo');
    await alert.getByRole('button', { name: 'Acknowledge' }).click();
    await alert.waitFor({ state: 'detached' });
    const token = await login(srv.url, 'clinician');
    await expect.poll(async () => (await api<{ criticalUnread: number }>(srv.url, token, 'GET', '/api/notifications')).body.criticalUnread).toBe(0);
    lab.provider.destroy();
  });

  it('draws the bell as an inline icon, not an emoji glyph that Debian\'s fonts lack', async () => {
    const bell = nurse.page.getByTestId('notification-bell');
    const icon = bell.locator('svg[data-icon=bell]');
    const box = await icon.boundingBox();
    expect(box?.width).toBeGreaterThanOrEqual(20);
    expect(box?.height).toBeGreaterThanOrEqual(20);
    // Nothing but the icon and the unread count: no character that needs an emoji font.
    const text = await bell.evaluate((b) => [...b.childNodes].filter((n) => !(n as Element).classList?.contains('wf-count')).map((n) => n.textContent).join(''));
    expect(text.trim()).toBe('');
    expect(await bell.getAttribute('aria-label')).toMatch(/^Notifications: \d+ unread$/);
  });
});
