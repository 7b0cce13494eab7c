// The admin pages in a real browser: change a nurse's role from the staff table, and read a record's history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login } from '../helpers/server.js';
import { launch, patientByName, signedIn, webServer } from './browser.js';

let srv: RunningServer;
let browser: Browser;
beforeAll(async () => {
  srv = await webServer();
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe('admin pages', () => {
  it('changes a role from the staff table and shows a record history', async () => {
    const { page, context } = await signedIn(browser, srv.url, 'admin');
    await page.click('a[href="#/admin"]');
    const nurseRow = page.locator('[data-testid=users] tr[data-username=nurse]');
    await nurseRow.locator('select').selectOption('CASHIER');
    await page.getByRole('status').filter({ hasText: 'nurse is now Cashier' }).waitFor();
    const token = await login(srv.url, 'nurse');
    expect((await api<{ user: { role: string } }>(srv.url, token, 'GET', '/api/auth/me')).body.user.role).toBe('CASHIER');

    const mutua = await patientByName(srv.url, 'Mutua');
    await page.goto(`/#/patients/${mutua.id}/history`);
    const row = page.locator(`[data-testid=history] tr[data-path="demographics/lastName"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('Mutua');
    await context.close();
  });

  it('has no Admin link for other roles', async () => {
    const { page, context } = await signedIn(browser, srv.url, 'clinician');
    expect(await page.locator('a[href="#/admin"]').count()).toBe(0);
    await context.close();
  });
});
