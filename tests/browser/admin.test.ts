// The admin pages in a real browser: change a nurse's role from the staff table, and read a record's history.
import { describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { docNameFor, sectionOf } from '@pamoja/schema';
import { api, login, stockClient, synced } from '../helpers/server.js';
import { openRecord, patientByName, serverAndBrowser, signedIn } from './browser.js';

let srv: RunningServer;
let browser: Browser;
serverAndBrowser((s, b) => {
  srv = s;
  browser = b;
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

  it('opens a field\'s history from the record page: old → new, and who', async () => {
    const r = await api<{ id: string; visitId: string }>(srv.url, await login(srv.url, 'reception'), 'POST', '/api/patients', {
      firstName: 'Halima', lastName: 'History', sex: 'female', dateOfBirth: '1992-02-02',
    });
    const { id, visitId } = r.body;
    // The first test made `nurse` a cashier; a nurse of our own writes the triage.
    await srv.ctx.users.create({ username: 'nurse2', name: 'Mary Wambui', role: 'NURSE', password: 'demo' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {}); // a stock client's relayed presence is refused
    const nurse = stockClient(srv.url, docNameFor(id), await login(srv.url, 'nurse2'));
    await synced(nurse.provider);
    const triage = sectionOf(nurse.doc, visitId, 'triage')!;
    const path = `visits/${visitId}/triage/chiefComplaint`;
    const admin = await login(srv.url, 'admin');
    type History = { changes: { path: string; changes: unknown[] }[] };
    const changesOf = async (): Promise<number> =>
      (await api<History>(srv.url, admin, 'GET', `/admin/patients/${id}/history`)).body.changes.find((c) => c.path === path)?.changes.length ?? 0;
    // Two changes in one commit batch are audited as one row; let the first be saved on its own.
    triage.set('chiefComplaint', 'Cough');
    await expect.poll(changesOf, { timeout: 5000 }).toBe(1);
    triage.set('chiefComplaint', 'Cough and fever');
    await expect.poll(changesOf, { timeout: 5000 }).toBe(2);
    nurse.provider.destroy();
    warn.mockRestore();

    const { page, context } = await signedIn(browser, srv.url, 'admin');
    await openRecord(page, id);
    await page.getByTestId('history-link').click();
    await page.waitForURL(`**/#/patients/${id}/history`);
    const row = page.locator(`[data-testid=history] tr[data-path="${path}"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('Cough and fever');
    await row.getByRole('button', { name: /changes?$/ }).click();
    const changes = (await row.locator('li').allTextContents()).map((t) => t.replace(/^.*? · /, ''));
    expect(changes).toEqual(['nurse2 (NURSE): ∅ → Cough', 'nurse2 (NURSE): Cough → Cough and fever']);
    await context.close();
  });

  it('has no Admin or History link for other roles', async () => {
    const { page, context } = await signedIn(browser, srv.url, 'clinician');
    expect(await page.locator('a[href="#/admin"]').count()).toBe(0);
    await openRecord(page, (await patientByName(srv.url, 'Mutua')).id);
    expect(await page.getByTestId('history-link').count()).toBe(0);
    await context.close();
  });
});
