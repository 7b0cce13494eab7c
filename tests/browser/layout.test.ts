// The app on a phone (390x844) and a tablet (1024x768): nothing runs off the side of the screen, the top
// bar leaves room for the page, and the floating notifications button never hides the last row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { launch, openRecord, patientByName, signInOn, webServer } from './browser.js';

let srv: RunningServer;
let browser: Browser;
beforeAll(async () => {
  [srv, browser] = await Promise.all([webServer(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

async function on(viewport: { width: number; height: number }, username: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: srv.url, viewport });
  const page = await context.newPage();
  await page.goto('/');
  await signInOn(page, username);
  return page;
}

/** How far the page is wider than the screen (0 when it fits). */
const overflow = (page: Page): Promise<number> =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('layout on a phone and a tablet', () => {
  it('phone: the list and a record fit the width, the top bar stays small, the bell covers no patient', async () => {
    const page = await on({ width: 390, height: 844 }, 'reception');
    await page.locator('.patient-row').nth(3).waitFor();
    expect(await overflow(page)).toBe(0);
    expect((await page.locator('.topbar').boundingBox())!.height).toBeLessThanOrEqual(110);

    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const last = (await page.locator('.patient-row').last().boundingBox())!;
    const bell = (await page.getByTestId('notification-bell').boundingBox())!;
    expect(last.y + last.height).toBeLessThanOrEqual(bell.y);

    await openRecord(page, (await patientByName(srv.url, 'Mutua')).id);
    expect(await overflow(page)).toBe(0);
    await page.context().close();
  });

  it('phone and tablet: the admin tables scroll inside their card instead of running off the page', async () => {
    const id = (await patientByName(srv.url, 'Kiprop')).id;
    for (const viewport of [{ width: 390, height: 844 }, { width: 1024, height: 768 }]) {
      const page = await on(viewport, 'admin');
      await page.goto(`/#/patients/${id}/history`);
      await page.locator('[data-testid=history] tr[data-path]').first().waitFor();
      expect(await overflow(page), `history at ${viewport.width}px`).toBe(0);
      const card = await page.getByTestId('history').evaluate((e) => e.scrollWidth - e.clientWidth);
      expect(card, `history card at ${viewport.width}px`).toBe(0);
      // A row's buttons stay on one line rather than stacking into a tall row.
      await page.goto('/#/admin');
      const row = page.locator('[data-testid=users] tr[data-username=cashier]');
      await row.waitFor();
      const buttons = await row.locator('td.actions button').evaluateAll((bs) => bs.map((b) => Math.round(b.getBoundingClientRect().top)));
      expect(new Set(buttons).size, `staff row buttons at ${viewport.width}px`).toBe(1);
      expect(await overflow(page), `admin at ${viewport.width}px`).toBe(0);
      await page.context().close();
    }
  });
});
