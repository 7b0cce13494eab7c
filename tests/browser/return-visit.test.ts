// Return visits in a real browser: a receptionist who meets a patient again opens a new visit for the
// existing record (from the list, or from the registration form's duplicate answer) instead of a twin.
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login } from '../helpers/server.js';
import { serverAndBrowser, signedIn } from './browser.js';

let srv: RunningServer;
let browser: Browser;
serverAndBrowser((s, b) => {
  srv = s;
  browser = b;
});

interface Row { id: string; firstName: string; lastName: string; visitId: string | null; visitStatus: string | null }

/** Registers a patient through the API and walks their visit to the end, as each role would. */
async function patientWithCompletedVisit(firstName: string, lastName: string, dateOfBirth: string): Promise<{ id: string; visitId: string }> {
  const r = await api<{ id: string; visitId: string }>(srv.url, await login(srv.url, 'reception'), 'POST', '/api/patients', {
    firstName, lastName, sex: 'male', dateOfBirth, phone: '+254 700 000 111',
  });
  expect(r.status).toBe(201);
  const steps: [string, string][] = [['nurse', 'CONSULTATION'], ['clinician', 'PHARMACY'], ['pharmacy', 'PAYMENT'], ['cashier', 'COMPLETED']];
  for (const [user, to] of steps) {
    const t = await api(srv.url, await login(srv.url, user), 'POST', `/api/visits/${r.body.id}/${r.body.visitId}/transition`, { to });
    expect(t.status, `${user} → ${to}`).toBe(200);
  }
  return r.body;
}

async function rowsNamed(lastName: string): Promise<Row[]> {
  const r = await api<Row[]>(srv.url, await login(srv.url, 'reception'), 'GET', `/api/patients?q=${lastName}`);
  return r.body.filter((p) => p.lastName === lastName);
}

describe('return visits', () => {
  it('registering a returning patient again offers a new visit for the existing record, once', async () => {
    const first = await patientWithCompletedVisit('Baraka', 'Returning', '1990-04-12');
    const { page, context } = await signedIn(browser, srv.url, 'reception');
    const register = async (): Promise<void> => {
      await page.goto('/#/patients');
      await page.getByRole('button', { name: 'Register a new patient' }).click();
      await page.getByLabel('First name').fill('baraka');
      await page.getByLabel('Last name').fill('Returning');
      await page.getByLabel('Date of birth').fill('1990-04-12');
      await page.getByRole('button', { name: 'Register and open visit' }).click();
      await page.locator('[data-testid=existing-patient]').waitFor();
    };

    await register();
    expect(await page.locator('form.register .error').first().textContent()).toContain('already registered');
    await page.getByRole('button', { name: 'Open a new visit for the existing patient' }).click();
    await page.waitForURL(`**/#/patients/${first.id}`);
    await page.locator('h3.visit-title', { hasText: 'Current visit' }).waitFor();
    await page.locator('details.past-visit').waitFor();
    let rows = await rowsNamed('Returning');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.visitId).not.toBe(first.visitId);
    expect(rows[0]!.visitStatus).not.toBe('COMPLETED');
    const secondVisit = rows[0]!.visitId;

    // The same person again while that visit is open: no third visit, and the app says why.
    await register();
    await page.getByRole('button', { name: 'Open a new visit for the existing patient' }).click();
    await page.locator('[data-testid=new-visit-error]', { hasText: 'already has an open visit' }).waitFor();
    expect(page.url()).toContain('#/patients');
    expect(page.url()).not.toContain(first.id);
    rows = await rowsNamed('Returning');
    expect(rows.map((r) => r.visitId)).toEqual([secondVisit]);
    await context.close();
  });

  it('the patient list offers a new visit to receptionists, only for patients with no open visit', async () => {
    const done = await patientWithCompletedVisit('Zawadi', 'Again', '1984-09-30');
    const nurse = await signedIn(browser, srv.url, 'nurse');
    await nurse.page.locator(`li[data-patient-id="${done.id}"]`).waitFor();
    expect(await nurse.page.locator('[data-testid=new-visit]').count()).toBe(0);
    await nurse.context.close();

    const { page, context } = await signedIn(browser, srv.url, 'reception');
    await page.getByLabel('Search patients').fill('Again');
    const row = page.locator(`li[data-patient-id="${done.id}"]`);
    await row.waitFor();
    // Demo patients all have an open visit: no button on their rows.
    await page.getByLabel('Search patients').fill('');
    await page.locator('li[data-patient-id]').nth(4).waitFor();
    const withButton = await page.locator('li[data-patient-id]:has([data-testid=new-visit])').evaluateAll((els) => els.map((e) => e.getAttribute('data-patient-id')));
    expect(withButton).toEqual([done.id]);
    await row.getByRole('button', { name: 'New visit' }).click();
    await page.waitForURL(`**/#/patients/${done.id}`);
    await page.locator('details.past-visit').waitFor();
    const rows = await rowsNamed('Again');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.visitId).not.toBe(done.visitId);
    await context.close();
  });
});
