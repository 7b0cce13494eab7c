// A conflict in a real browser: two nurses set the triage category without seeing each other's value
// (one offline); a nurse sees both values with who wrote them and picks one; it is gone for everyone
// and the field shows the pick. A receptionist sees the conflict but cannot pick.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import { conflictsOf, docNameFor, sectionOf, type Conflict } from '@pamoja/schema';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { api, login, stockClient, synced, until } from '../helpers/server.js';
import { launch, openRecord, signedIn, webServer } from './browser.js';

let srv: RunningServer;
let browser: Browser;
let patientId: string;
let visitId: string;

beforeAll(async () => {
  [srv, browser] = await Promise.all([webServer(), launch()]);
  await srv.ctx.users.create({ username: 'nurse2', name: 'Mary Wambui', role: 'NURSE', password: 'demo' });
  const r = await api<{ id: string; visitId: string }>(srv.url, await login(srv.url, 'reception'), 'POST', '/api/patients', {
    firstName: 'Neema', lastName: 'Conflict', sex: 'female', dateOfBirth: '1979-06-15',
  });
  ({ id: patientId, visitId } = r.body);
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

async function connect(username: string) {
  const c = stockClient(srv.url, docNameFor(patientId), await login(srv.url, username));
  await synced(c.provider);
  return c;
}

describe('conflicts in the record', () => {
  it('a nurse picks one of two triage categories; the conflict is gone for everyone; a receptionist cannot pick', async () => {
    // Stock clients relay every presence, which the server refuses with a warning: expected here.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // The online nurse sets URGENT; the offline one, never having seen it, sets EMERGENCY and reconnects.
    const a = await connect('nurse');
    const b = await connect('nurse2');
    b.provider.disconnect();
    sectionOf(a.doc, visitId, 'triage')!.set('category', 'URGENT');
    await until(() => sectionOf(srv.hub.rooms.get(docNameFor(patientId))!.doc, visitId, 'triage')!.get('category') === 'URGENT', 5000, 'online value lands');
    sectionOf(b.doc, visitId, 'triage')!.set('category', 'EMERGENCY');
    b.provider.connect();
    await synced(b.provider);
    await until(() => conflictsOf(a.doc).size === 1, 5000, 'conflict recorded');
    b.provider.destroy();

    const [nurse, reception] = await Promise.all([signedIn(browser, srv.url, 'nurse'), signedIn(browser, srv.url, 'reception')]);
    await Promise.all([openRecord(nurse.page, patientId), openRecord(reception.page, patientId)]);
    const path = `visits/${visitId}/triage/category`;
    const noticeOf = (p: typeof nurse.page) => p.locator(`[data-section=triage] [data-conflict="${path}"]`);

    // Both values, who wrote each.
    const choices = noticeOf(nurse.page).locator('li');
    await choices.first().waitFor();
    const texts = (await choices.allTextContents()).map((t) => t.replace(/ at .*$/, ''));
    expect(texts).toEqual(['Urgent by Sarah Achieng', 'Emergency by Mary Wambui']);
    expect(await noticeOf(nurse.page).getByRole('button', { name: 'Keep this' }).count()).toBe(2);

    // The receptionist sees the same conflict, and is told she cannot choose.
    const theirs = noticeOf(reception.page);
    await theirs.waitFor();
    expect(await theirs.textContent()).toContain('Someone allowed to change this field must choose one.');
    expect((await theirs.locator('li').allTextContents()).map((t) => t.replace(/ at .*$/, ''))).toEqual(texts);
    expect(await theirs.getByRole('button').count()).toBe(0);

    // Pick the value the field does not show now, so the field must change to prove the pick landed.
    const field = (p: typeof nurse.page) => p.locator('[data-field="triage.category"]');
    const shown = await field(nurse.page).inputValue();
    expect(['URGENT', 'EMERGENCY']).toContain(shown);
    const pick = shown === 'URGENT' ? 'EMERGENCY' : 'URGENT';
    const label = pick === 'URGENT' ? 'Urgent' : 'Emergency';
    await choices.filter({ has: nurse.page.locator('.conflict-value', { hasText: new RegExp(`^${label}$`) }) })
      .getByRole('button', { name: 'Keep this' }).click();

    await Promise.all([noticeOf(nurse.page).waitFor({ state: 'detached' }), theirs.waitFor({ state: 'detached' })]);
    await expect.poll(() => field(nurse.page).inputValue()).toBe(pick);
    await expect.poll(() => field(reception.page).inputValue()).toBe(pick);
    // And for a client outside the browser too.
    await until(() => ([...conflictsOf(a.doc).values()] as Conflict[])[0]?.resolved?.value === pick, 5000, 'resolution reaches the stock client');
    expect(sectionOf(a.doc, visitId, 'triage')!.get('category')).toBe(pick);

    a.provider.destroy();
    warn.mockRestore();
    await Promise.all([nurse.context.close(), reception.context.close()]);
  });
});
