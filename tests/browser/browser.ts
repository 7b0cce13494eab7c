// Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, against a real Pamoja server
// serving the built web app. Nothing here downloads a browser.
import { afterAll, beforeAll } from 'vitest';
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, testServer } from '../helpers/server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A server with the demo clinic, serving apps/web/dist (built by the global setup). */
export async function webServer(): Promise<RunningServer> {
  return testServer({ unloadDelayMs: 2000 });
}

export interface Person {
  context: BrowserContext;
  page: Page;
}

/** A separate browser profile (its own storage, like its own tablet), signed in through the form. */
export async function signedIn(browser: Browser, base: string, username: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1180, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${username}] page error:`, e.message));
  await page.goto('/');
  await signInOn(page, username);
  return { context, page };
}

export async function signInOn(page: Page, username: string, password = 'demo'): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector(`[data-user="${username}"]`);
}

export async function patientByName(base: string, lastName: string): Promise<{ id: string; opNumber: string; visitId: string }> {
  const token = await login(base, 'reception');
  const r = await api<{ id: string; opNumber: string; visitId: string; lastName: string }[]>(base, token, 'GET', `/api/patients?q=${lastName}`);
  const p = r.body.find((x) => x.lastName === lastName);
  if (!p) throw new Error(`no demo patient ${lastName}`);
  return p;
}

export async function openRecord(page: Page, patientId: string): Promise<void> {
  await page.goto(`/#/patients/${patientId}`);
  await page.waitForSelector('[data-testid=sync-status][data-state=saved]', { timeout: 15_000 });
}

/** The service worker controls the page, so a reload works with no network. */
export async function offlineReady(page: Page, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  let state = '';
  while (Date.now() - start < timeoutMs) {
    state = await page.evaluate(async () => {
      const regs = await navigator.serviceWorker.getRegistrations();
      const w = regs.map((r) => `${r.installing?.state ?? '-'}/${r.waiting?.state ?? '-'}/${r.active?.state ?? '-'}`).join(',');
      return navigator.serviceWorker.controller ? 'controlled' : `not controlled; registrations: ${w || 'none'}`;
    });
    if (state === 'controlled') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`The service worker never took control of the page (${state})`);
}

/**
 * One served web app and one Chromium for a test file: started before its tests, closed after.
 * `set` hands them to the file's own variables.
 */
export function serverAndBrowser(set: (srv: RunningServer, browser: Browser) => void): void {
  let srv: RunningServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    srv = await webServer();
    browser = await launch();
    set(srv, browser);
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });
}

/** A nurse and a clinical officer, each in their own browser context, both on one demo patient's record. */
export async function nurseAndClinicianOn(browser: Browser, base: string, lastName: string): Promise<{
  patient: { id: string; opNumber: string; visitId: string }; nurse: Person; clinician: Person;
}> {
  const patient = await patientByName(base, lastName);
  const [nurse, clinician] = await Promise.all([signedIn(browser, base, 'nurse'), signedIn(browser, base, 'clinician')]);
  await Promise.all([openRecord(nurse.page, patient.id), openRecord(clinician.page, patient.id)]);
  return { patient, nurse, clinician };
}
