// Nothing acknowledged is lost: not to SIGKILL, not to compaction, not to unloading and reloading.

import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docNameFor, sectionOf } from '@pamoja/schema';
import { api, login, stockClient, synced, tempDir, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startChild, type ChildServer } from '../helpers/child-server.js';
import { recordJson } from '../helpers/record.js';

const children: ChildServer[] = [];
afterAll(async () => {
  for (const c of children) await c.kill();
});

describe('durability', () => {
  it('keeps an edit acknowledged as saved when the server is SIGKILLed right after', async () => {
    const dir = tempDir();
    const first = await startChild(dir);
    children.push(first);
    const token = await login(first.url, 'nurse');
    const patients = await api<{ id: string; visitId: string; lastName: string }[]>(first.url, token, 'GET', '/api/patients');
    const { id, visitId } = patients.body.find((p) => p.lastName === 'Hassan')!;
    const raw = new RawClient(first.url, docNameFor(id), token);
    await raw.opened;
    const local = await raw.fetchDoc();
    const sv = Y.encodeStateVector(local);
    sectionOf(local, visitId, 'vitals')!.set('heartRate', 131);
    sectionOf<Y.Text>(local, visitId, 'assessment')!.insert(0, 'Saved before the crash');
    raw.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    await raw.waitFor((r) => r.ext?.type === 'saved');
    await first.kill('SIGKILL');

    const second = await startChild(dir);
    children.push(second);
    const reader = new RawClient(second.url, docNameFor(id), await login(second.url, 'clinician'));
    await reader.opened;
    const after = await reader.fetchDoc();
    expect(sectionOf(after, visitId, 'vitals')!.get('heartRate')).toBe(131);
    expect(sectionOf<Y.Text>(after, visitId, 'assessment')!.toString()).toBe('Saved before the crash');
    reader.close();
  });

  it('reloads the identical document after compaction into a snapshot and after unloading', async () => {
    const dir = tempDir();
    let srv = await testServer({ dataDir: dir, snapshotEvery: 25 });
    const token = await login(srv.url, 'nurse');
    const { id, visitId } = (await api<{ id: string; visitId: string }[]>(srv.url, token, 'GET', '/api/patients')).body[0]!;
    const c = stockClient(srv.url, docNameFor(id), token);
    await synced(c.provider);
    const text = sectionOf<Y.Text>(c.doc, visitId, 'assessment')!;
    const caughtUp = () => JSON.stringify(recordJson(srv.hub.rooms.get(docNameFor(id))!.doc)) === JSON.stringify(recordJson(c.doc));
    // Edits that arrive together are stored as one update: send them in 40 rounds, so the log
    // passes the snapshot threshold.
    for (let i = 0; i < 120; i++) {
      if (i % 3 === 0) sectionOf(c.doc, visitId, 'vitals')!.set('heartRate', 60 + i);
      else text.insert(text.length, String.fromCharCode(97 + (i % 26)));
      if (i % 10 === 0 && text.length > 3) text.delete(1, 2);
      if (i % 3 === 2) await until(caughtUp, 5000, 'server caught up');
    }
    await until(caughtUp, 5000, 'server caught up');
    srv.ctx.queue.flush();
    const snapshots = srv.ctx.db.prepare('SELECT count(*) AS n FROM doc_snapshots WHERE doc = ?').get(docNameFor(id)) as { n: number };
    expect(snapshots.n).toBe(1);
    const logRows = srv.ctx.docs.sizeOf(docNameFor(id)).logRows;
    expect(logRows).toBeLessThan(25);
    const expected = recordJson(c.doc);
    const expectedSv = Y.encodeStateVector(c.doc);
    c.provider.destroy();
    await until(() => !srv.hub.rooms.has(docNameFor(id)), 5000, 'document unloaded');
    await srv.close();

    srv = await testServer({ dataDir: dir });
    const loaded = srv.ctx.docs.load(docNameFor(id)).doc;
    expect(recordJson(loaded)).toEqual(expected);
    expect(Y.encodeStateVector(loaded)).toEqual(expectedSv);
    await srv.close();
  });
});
