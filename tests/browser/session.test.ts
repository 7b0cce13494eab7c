// Signing in and out, finding a patient, and rendering what users typed as text, never as markup.
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login } from '../helpers/server.js';
import { openRecord, patientByName, serverAndBrowser, signedIn } from './browser.js';

let srv: RunningServer;
let browser: Browser;

serverAndBrowser((s, b) => {
  srv = s;
  browser = b;
});


describe('session and patient list', () => {
  it('refuses a wrong password, keeps the session on the device, and signing out revokes it', async () => {
    const context = await browser.newContext({ baseURL: srv.url });
    const page = await context.newPage();
    await page.goto('/');
    await page.fill('input[name=username]', 'nurse');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toContain('Wrong username or password');

    await page.fill('input[name=password]', 'demo');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-user=nurse]');
    await page.reload();
    await page.waitForSelector('[data-user=nurse]');
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('pamoja:session')!).token as string);
    expect((await api(srv.url, token, 'GET', '/api/auth/me')).status).toBe(200);

    await page.click('text=Sign out');
    await page.waitForSelector('input[name=username]');
    expect((await api(srv.url, token, 'GET', '/api/auth/me')).status).toBe(401);
    expect(await page.evaluate(() => localStorage.getItem('pamoja:session'))).toBeNull();
    await context.close();
  });

  it('searches by name, OP number and phone, showing each visit\'s step', async () => {
    const { page, context } = await signedIn(browser, srv.url, 'reception');
    const fatuma = await patientByName(srv.url, 'Odhiambo');
    const search = page.locator('input[type=search]');
    for (const q of ['fatuma', fatuma.opNumber, '733 444']) {
      await search.fill(q);
      await expect.poll(() => page.locator('.patient-row').count()).toBe(1);
      expect(await page.locator('.patient-row').textContent()).toContain('Fatuma Odhiambo');
    }
    expect(await page.locator('.patient-row .step').textContent()).toBe('At the lab');
    await page.click('.patient-row');
    await page.locator('[data-patient-name]', { hasText: 'Fatuma Odhiambo' }).waitFor();
    await context.close();
  });

  it('shows names typed as markup as plain text', async () => {
    const token = await login(srv.url, 'reception');
    const r = await api<{ id: string }>(srv.url, token, 'POST', '/api/patients', {
      firstName: '<img src=x onerror="window.__xss=1">', lastName: 'Test<script>window.__xss=2</script>',
      sex: 'female', dateOfBirth: '2000-01-01', phone: '0700 000 001',
    });
    expect(r.status).toBe(201);
    const { page, context } = await signedIn(browser, srv.url, 'nurse');
    await page.locator('.patient-row', { hasText: '<img src=x' }).waitFor();
    await openRecord(page, r.body.id);
    expect(await page.locator('[data-patient-name]').textContent()).toContain('<img src=x onerror="window.__xss=1">');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img[src=x]').count()).toBe(0);
    await context.close();
  });
});
