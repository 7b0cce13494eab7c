// Nothing a person typed is silently lost: not to a reload or a page change within a moment of
// typing, not to signing out or a revoked session with changes unsent, not to a role changed under
// them, not to a colleague saving the same field or typing in the same text at the same moment.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as Y from 'yjs';
import { docNameFor, sectionOf } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, registerTestPatient } from '../helpers/server.js';
import { offlineReady, openRecord, serverAndBrowser, signedIn, signInOn } from './browser.js';

let srv: RunningServer;
let browser: Browser;

serverAndBrowser((s, b) => {
  srv = s;
  browser = b;
});
beforeAll(async () => {
  await srv.ctx.users.create({ username: 'nurse2', name: 'Mary Wambui', role: 'NURSE', password: 'demo' });
  await srv.ctx.users.create({ username: 'nurse3', name: 'Grace Njeri', role: 'NURSE', password: 'demo' });
});

let n = 0;
async function newPatient(): Promise<{ id: string; visitId: string }> {
  n++;
  return registerTestPatient(srv.url, { firstName: `Kept${n}`, lastName: `Typed${n}`, sex: 'female', dateOfBirth: '1980-01-01' });
}

const onServer = (p: { id: string; visitId: string }, section: string, key?: string): unknown => {
  const room = srv.hub.rooms.get(docNameFor(p.id));
  if (!room) return undefined;
  const s = sectionOf<Y.AbstractType<unknown>>(room.doc, p.visitId, section as never);
  if (!s) return undefined;
  if (key) return (s as unknown as Y.Map<unknown>).get(key);
  return s.toString();
};

const status = (page: Page) => page.locator('[data-testid=sync-status]');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function userId(username: string): Promise<string> {
  return srv.ctx.users.byUsername(username)!.id;
}

async function setRole(username: string, role: string): Promise<number> {
  const token = await login(srv.url, 'admin');
  const r = await api(srv.url, token, 'PATCH', `/admin/users/${await userId(username)}`, { role });
  return r.status;
}

/** Only this page loses the network (the context's other tabs stay online); one DevTools session per page. */
const cdps = new Map<Page, import('playwright-core').CDPSession>();
async function pageOffline(context: BrowserContext, page: Page, offline: boolean): Promise<void> {
  let cdp = cdps.get(page);
  if (!cdp) cdps.set(page, (cdp = await context.newCDPSession(page)));
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
}

describe('two tabs of one person, one offline', () => {
  it('the online tab saving does not make the offline tab forget its own unsent changes, through a reload', async () => {
    const p = await newPatient();
    const a = await signedIn(browser, srv.url, 'nurse');
    await openRecord(a.page, p.id);
    await offlineReady(a.page);
    const tabB = await a.context.newPage();
    await openRecord(tabB, p.id);
    await pageOffline(a.context, a.page, true);
    await a.page.evaluate(() => window.dispatchEvent(new Event('offline')));
    await status(a.page).and(a.page.locator('[data-state=offline]')).waitFor();
    await a.page.fill('[data-field="triage.chiefComplaint"]', 'Offline tab: headache since morning');
    await a.page.locator('[data-field="vitals.spo2"]').focus();
    await expect.poll(() => status(a.page).textContent()).toContain('will be sent when the network is back');
    // The online tab saves a change of its own.
    await tabB.fill('[data-field="vitals.temperature"]', '37.9');
    await tabB.locator('[data-field="vitals.spo2"]').focus();
    await tabB.locator('[data-testid=sync-status][data-state=saved]').waitFor({ timeout: 10_000 });
    await a.page.reload();
    await a.page.locator('[data-testid=sync-status][data-state=offline]').waitFor();
    expect(await a.page.locator('[data-field="triage.chiefComplaint"]').inputValue()).toBe('Offline tab: headache since morning');
    expect(await status(a.page).textContent()).toContain('will be sent when the network is back');
    await pageOffline(a.context, a.page, false);
    await a.page.evaluate(() => window.dispatchEvent(new Event('online')));
    await expect.poll(() => onServer(p, 'triage', 'chiefComplaint'), { timeout: 15_000 }).toBe('Offline tab: headache since morning');
    await a.page.locator('[data-testid=sync-status][data-state=saved]').waitFor({ timeout: 10_000 });
    await a.context.close();
  });
});

describe('a reload or a page change a moment after typing', () => {
  for (const how of ['going back', 'a reload'] as const) {
    it(`a value typed into a field and not yet written survives ${how} within half a second`, async () => {
      const p = await newPatient();
      const a = await signedIn(browser, srv.url, 'nurse');
      await a.page.goto('/#/patients');
      await openRecord(a.page, p.id);
      await a.page.locator('[data-field="vitals.temperature"]').click();
      await a.page.keyboard.type('39.2');
      if (how === 'a reload') await a.page.reload();
      else await a.page.goBack();
      if (how === 'going back') await openRecord(a.page, p.id);
      await expect.poll(() => a.page.locator('[data-field="vitals.temperature"]').inputValue(), { timeout: 10_000 }).toBe('39.2');
      await expect.poll(() => onServer(p, 'vitals', 'temperature'), { timeout: 10_000 }).toBe(39.2);
      await a.context.close();
    });
  }
});

describe('the session ends with changes unsent', () => {
  it('signing out with changes the server has not saved asks first, and says they stay on this device', async () => {
    const p = await newPatient();
    const a = await signedIn(browser, srv.url, 'nurse');
    await openRecord(a.page, p.id);
    await offlineReady(a.page);
    await a.context.setOffline(true);
    await a.page.fill('[data-field="triage.chiefComplaint"]', 'Unsent before sign-out');
    await a.page.locator('[data-field="vitals.heartRate"]').focus();
    await expect.poll(() => status(a.page).textContent()).toContain('kept on this device');
    const asked: string[] = [];
    a.page.once('dialog', (d) => (asked.push(d.message()), void d.dismiss()));
    await a.page.click('text=Sign out');
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toMatch(/One record has changes the server has not saved yet\. They stay on this device/);
    // Dismissed: still signed in, still on the record.
    expect(await a.page.locator('[data-field="triage.chiefComplaint"]').inputValue()).toBe('Unsent before sign-out');
    await a.context.close();
  });

  it('a session revoked while the tablet was offline sends the person to sign in; what they typed is sent once they have', async () => {
    const p = await newPatient();
    const a = await signedIn(browser, srv.url, 'nurse');
    await openRecord(a.page, p.id);
    await offlineReady(a.page);
    const token = await a.page.evaluate(() => JSON.parse(localStorage.getItem('pamoja:session')!).token as string);
    await a.context.setOffline(true);
    await a.page.fill('[data-field="triage.chiefComplaint"]', 'Typed offline, token revoked meanwhile');
    await a.page.locator('[data-field="vitals.heartRate"]').focus();
    await sleep(300);
    expect((await api(srv.url, token, 'POST', '/api/auth/logout')).status).toBe(200);
    await a.context.setOffline(false);
    await a.page.evaluate(() => window.dispatchEvent(new Event('online')));
    await a.page.locator('input[name=username]').waitFor({ timeout: 15_000 });
    expect(onServer(p, 'triage', 'chiefComplaint')).toBeUndefined();
    await signInOn(a.page, 'nurse');
    await openRecord(a.page, p.id);
    await expect.poll(() => onServer(p, 'triage', 'chiefComplaint'), { timeout: 10_000 }).toBe('Typed offline, token revoked meanwhile');
    await a.context.close();
  });
});

describe('a role changed under the person', () => {
  it('while the record is open: the forms follow the new role at once', async () => {
    await srv.ctx.users.create({ username: 'nurse4', name: 'Rose Atieno', role: 'NURSE', password: 'demo' });
    const p = await newPatient();
    const a = await signedIn(browser, srv.url, 'nurse4');
    await openRecord(a.page, p.id);
    const field = a.page.locator('[data-field="triage.chiefComplaint"]');
    expect(await field.isEnabled()).toBe(true);
    expect(await setRole('nurse4', 'RECEPTIONIST')).toBe(200);
    await expect.poll(() => field.isEnabled(), { timeout: 5000 }).toBe(false);
    await expect.poll(() => a.page.locator('[data-user=nurse4]').textContent()).toContain('Receptionist');
    await a.context.close();
  });

  it('while the tablet was offline: what was refused is shown back with what was typed, and still after a reload', async () => {
    await srv.ctx.users.create({ username: 'nurse5', name: 'Esther Wanjiku', role: 'NURSE', password: 'demo' });
    const p = await newPatient();
    const a = await signedIn(browser, srv.url, 'nurse5');
    await openRecord(a.page, p.id);
    await offlineReady(a.page);
    await a.context.setOffline(true);
    await a.page.fill('[data-field="triage.chiefComplaint"]', 'Offline shift: convulsions x2');
    await a.page.locator('[data-field="vitals.temperature"]').focus();
    await a.page.fill('[data-field="vitals.temperature"]', '40.1');
    await a.page.locator('[data-field="vitals.spo2"]').focus();
    await sleep(300);
    expect(await setRole('nurse5', 'RECEPTIONIST')).toBe(200);
    await a.context.setOffline(false);
    const refusals = a.page.locator('[data-refusal]');
    await expect.poll(async () => (await refusals.allTextContents()).join(' '), { timeout: 15_000 }).toMatch(/You entered: Offline shift: convulsions x2[^]*You entered: 40\.1|You entered: 40\.1[^]*You entered: Offline shift: convulsions x2/);
    expect(onServer(p, 'triage', 'chiefComplaint')).toBeUndefined();
    await a.page.reload();
    await expect.poll(async () => (await a.page.locator('[data-refusal]').allTextContents()).join(' '), { timeout: 10_000 }).toContain('convulsions x2');
    // Dismissed, it is gone for good.
    const before = await a.page.locator('[data-refusal]').count();
    await a.page.locator('[data-refusal] button', { hasText: 'Dismiss' }).first().click();
    await a.page.reload();
    await expect.poll(() => a.page.locator('[data-refusal]').count(), { timeout: 10_000 }).toBe(before - 1);
    await a.context.close();
  });
});

describe('two people on one field at the same moment', () => {
  it('a colleague saves the field I am typing in: I see their value, nothing is overwritten until I choose', async () => {
    const p = await newPatient();
    const [a, b] = await Promise.all([signedIn(browser, srv.url, 'nurse'), signedIn(browser, srv.url, 'nurse2')]);
    await Promise.all([openRecord(a.page, p.id), openRecord(b.page, p.id)]);
    const fb = b.page.locator('[data-field="triage.chiefComplaint"]');
    await fb.click();
    await b.page.keyboard.type('Dizzy', { delay: 50 });
    await a.page.fill('[data-field="triage.chiefComplaint"]', 'Known diabetic, missed insulin 2 days');
    await a.page.locator('[data-field="vitals.heartRate"]').focus();
    await expect.poll(() => onServer(p, 'triage', 'chiefComplaint'), { timeout: 10_000 }).toBe('Known diabetic, missed insulin 2 days');
    await b.page.keyboard.type(' and weak', { delay: 50 });
    await b.page.locator('[data-field="vitals.heartRate"]').focus();
    const notice = b.page.locator('[data-changed-meanwhile]');
    await notice.waitFor({ timeout: 5000 });
    expect(await notice.textContent()).toMatch(/Known diabetic, missed insulin 2 days[^]*Dizzy and weak/);
    await sleep(1000);
    expect(onServer(p, 'triage', 'chiefComplaint')).toBe('Known diabetic, missed insulin 2 days');
    await notice.locator('button', { hasText: 'Keep mine' }).click();
    await expect.poll(() => onServer(p, 'triage', 'chiefComplaint'), { timeout: 10_000 }).toBe('Dizzy and weak');
    await Promise.all([a.context.close(), b.context.close()]);
  });

  it('a colleague types in the text I am typing in: my cursor stays where I was, my word stays whole', async () => {
    const p = await newPatient();
    const [a, b] = await Promise.all([signedIn(browser, srv.url, 'nurse'), signedIn(browser, srv.url, 'nurse2')]);
    await Promise.all([openRecord(a.page, p.id), openRecord(b.page, p.id)]);
    const ta = a.page.locator('[data-field=assessment]');
    const tb = b.page.locator('[data-field=assessment]');
    await ta.click();
    await a.page.keyboard.type('Patient has fever.');
    await expect.poll(() => tb.inputValue(), { timeout: 10_000 }).toBe('Patient has fever.');
    await ta.evaluate((el: HTMLTextAreaElement) => {
      el.focus();
      el.setSelectionRange(12, 12);
    });
    await a.page.keyboard.type('hi');
    // At the start, before my cursor, and at the end, while I am mid-word.
    await tb.click();
    await tb.press('Control+Home');
    await b.page.keyboard.type('Adult. ');
    await tb.press('Control+End');
    await b.page.keyboard.type(' Cough.');
    await expect.poll(() => ta.inputValue(), { timeout: 10_000 }).toContain('Cough.');
    await a.page.keyboard.type('gh ');
    await expect.poll(() => onServer(p, 'assessment'), { timeout: 10_000 }).toBe('Adult. Patient has high fever. Cough.');
    await Promise.all([a.context.close(), b.context.close()]);
  });
});
