// Nothing acknowledged is lost: not to SIGKILL, not to compaction, not to unloading and reloading.

import fs from 'node:fs';
import net from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import { docNameFor, sectionOf } from '@pamoja/schema';
import { api, login, stockClient, synced, tempDir, testServer, until } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startChild, type ChildServer } from '../helpers/child-server.js';
import { recordJson } from '../helpers/record.js';
import type { RunningServer } from '../../apps/sync-server/src/index.js';
import { checkFile } from '../../apps/sync-server/src/ops/check.js';

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

  it('a registration answered 201 is there after a SIGKILL right after the answer, with its record and OP number', async () => {
    const dir = tempDir();
    const first = await startChild(dir);
    children.push(first);
    const token = await login(first.url, 'reception');
    const made: { id: string; opNumber: string; visitId: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api<{ id: string; opNumber: string; visitId: string }>(first.url, token, 'POST', '/api/patients', {
        firstName: 'Grace', lastName: `Wanjiru${'abc'[i]}`, sex: 'female', dateOfBirth: '1992-03-14', phone: '+254 700 000 00' + i,
      });
      expect(r.status).toBe(201);
      made.push(r.body);
    }
    // Killed the moment the last answer is read: every registration answered must be on disk.
    await first.kill('SIGKILL');

    const second = await startChild(dir);
    children.push(second);
    const nurse = await login(second.url, 'nurse');
    const listed = (await api<{ id: string; opNumber: string }[]>(second.url, nurse, 'GET', '/api/patients?q=Wanjiru')).body;
    expect(listed.map((p) => p.opNumber).sort()).toEqual(made.map((m) => m.opNumber).sort());
    for (const m of made) {
      const reader = new RawClient(second.url, docNameFor(m.id), nurse);
      await reader.opened;
      const doc = await reader.fetchDoc();
      expect(doc.getMap('demographics').get('opNumber')).toBe(m.opNumber);
      expect(sectionOf(doc, m.visitId, 'workflow')!.get('status')).toBe('TRIAGE');
      reader.close();
    }
  });

  it('an edit\'s audit rows are there after a SIGKILL the moment the edit reached a colleague, before the server had written them', async () => {
    const dir = tempDir();
    const first = await startChild(dir);
    children.push(first);
    const nurse = await login(first.url, 'nurse');
    const { id, visitId } = (await api<{ id: string; visitId: string; lastName: string }[]>(first.url, nurse, 'GET', '/api/patients')).body.find((p) => p.lastName === 'Hassan')!;
    const colleague = new RawClient(first.url, docNameFor(id), await login(first.url, 'clinician'));
    const tablet = new RawClient(first.url, docNameFor(id), nurse);
    await Promise.all([colleague.opened, tablet.opened]);
    const local = await tablet.fetchDoc();
    await colleague.fetchDoc();
    const send = (change: () => void): void => {
      const sv = Y.encodeStateVector(local);
      change();
      tablet.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    };
    // The session's first edit waits for the disk; the second is the one caught in the window.
    send(() => sectionOf(local, visitId, 'vitals')!.set('temperature', 37.9));
    await tablet.waitFor((r) => r.ext?.type === 'saved');
    const before = colleague.received.length;
    send(() => {
      sectionOf(local, visitId, 'vitals')!.set('heartRate', 131);
      sectionOf<Y.Text>(local, visitId, 'assessment')!.insert(0, 'Audited after the crash');
    });
    await colleague.waitFor((r) => r.type === 0 && r.step === 2, 5000, before);
    await first.kill('SIGKILL');

    // What the killed server left: the edit, its audit rows only inside its log row.
    const left = new Database(`${dir}/pamoja.sqlite`, { readonly: true });
    const auditedNow = left.prepare("SELECT count(*) AS n FROM audit WHERE patient_id = ? AND path LIKE '%/vitals/heartRate' AND new_value = '131'").get(id) as { n: number };
    const kept = left.prepare("SELECT count(*) AS n FROM doc_updates WHERE audit LIKE '%heartRate%131%'").get() as { n: number };
    left.close();
    expect({ auditedNow: auditedNow.n, kept: kept.n }).toEqual({ auditedNow: 0, kept: 1 });

    // A copy started by mistake on a port that is taken (as by a copy already serving) stops without
    // writing them: the one serving would otherwise find its audit chain written under it.
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    await expect(startChild(dir, { PORT: String(port) })).rejects.toThrow(/port \d+ is already in use/);
    taken.close();
    expect(checkFile(`${dir}/pamoja.sqlite`).audit.kept).toBeGreaterThanOrEqual(1);

    const second = await startChild(dir);
    children.push(second);
    const admin = await login(second.url, 'admin');
    const rows = (await api<{ rows: { username: string; path: string; old_value: string | null; new_value: string | null; outcome: string }[] }>(
      second.url, admin, 'GET', `/admin/audit?patientId=${id}&action=UPDATE&limit=100`,
    )).body.rows;
    expect(rows.filter((r) => r.new_value === '131' || r.path.endsWith('assessment')).map((r) => [r.username, r.path.split('/').pop(), r.new_value, r.outcome]).sort()).toEqual([
      ['nurse', 'assessment', 'inserted "Audited after the crash"', 'applied'],
      ['nurse', 'heartRate', '131', 'applied'],
    ]);
    expect((await api<{ ok: boolean }>(second.url, admin, 'GET', '/admin/audit/verify')).body.ok).toBe(true);
    colleague.close();
    tablet.close();
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

describe('what waits for the disk', () => {
  it('sends edits on to the room at once, but says saved only after an fsync that covers them', async () => {
    // The WAL fsyncs are held until the test lets each one finish.
    const held: (() => void)[] = [];
    const realSync = fs.fdatasync;
    // Only the WAL's: a checkpoint's sync of the database file (its timer may fire mid-test on a busy
    // machine) goes through at once, or releasing "the next fsync" would release that one instead.
    const isWal = (fd: number): boolean => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith('-wal');
      } catch {
        return true;
      }
    };
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      if (isWal(fd)) held.push(() => realSync(fd, cb));
      else realSync(fd, cb);
    }) as typeof fs.fdatasync);
    const release = async (): Promise<void> => {
      await until(() => held.length > 0, 5000, 'an fsync started');
      held.shift()!();
    };
    // While connecting and fetching, every fsync goes through.
    let auto = true;
    const pass = setInterval(() => {
      while (auto && held.length) held.shift()!();
    }, 5);
    const srv = await testServer();
    try {
      const token = await login(srv.url, 'nurse');
      const { id, visitId } = (await api<{ id: string; visitId: string }[]>(srv.url, token, 'GET', '/api/patients')).body[0]!;
      const a = new RawClient(srv.url, docNameFor(id), token);
      const b = new RawClient(srv.url, docNameFor(id), await login(srv.url, 'clinician'));
      await Promise.all([a.opened, b.opened]);
      const local = await a.fetchDoc();
      auto = false;
      while (held.length) held.shift()!();
      const send = (value: number): void => {
        const sv = Y.encodeStateVector(local);
        sectionOf(local, visitId, 'vitals')!.set('heartRate', value);
        a.sendUpdate(Y.encodeStateAsUpdate(local, sv));
      };
      const seenByB = (): number => b.received.filter((r) => r.type === 0 && r.step === 2).length;
      const saved = (): number[] => a.exts('saved').map((e) => Number(e.count));

      // A session's first edit waits for the disk even for the room: its ownership must be durable.
      send(101);
      await until(() => held.length > 0, 5000, 'first edit committed');
      await new Promise((r) => setTimeout(r, 50));
      expect(seenByB()).toBe(0);
      expect(saved()).toEqual([]);
      await release();
      await until(() => seenByB() === 1 && saved().length === 1, 5000, 'first edit out and saved');
      // What the first edit set off (the workflow following it may write too) is synced before the
      // next part, so the fsync in flight below is the one started for the second edit.
      for (let quiet = 0; quiet < 5;) {
        await new Promise((r) => setTimeout(r, 20));
        if (held.length) (held.shift()!(), (quiet = 0));
        else quiet++;
      }

      // Later edits reach the room at once, before their fsync finishes.
      send(102);
      await until(() => seenByB() === 2, 5000, 'second edit reaches the room while its fsync is held');
      expect(saved()).toEqual([1]);
      // A third edit arrives while the second one's fsync is still running: that fsync started before
      // the third edit was committed, so it must not acknowledge it.
      send(103);
      await until(() => seenByB() === 3, 5000, 'third edit reaches the room');
      await release();
      await until(() => saved().length === 2, 5000, 'second edit saved');
      expect(saved()).toEqual([1, 1]);
      await new Promise((r) => setTimeout(r, 50));
      expect(saved()).toEqual([1, 1]);
      await release();
      await until(() => saved().length === 3, 5000, 'third edit saved after its own fsync');
      expect(saved()).toEqual([1, 1, 1]);

      // A session that announces its client id in its presence first (as stock providers do on
      // connect) is claimed then, so its very first edit goes out at commit.
      auto = true;
      const c = new RawClient(srv.url, docNameFor(id), await login(srv.url, 'nurse'));
      await c.opened;
      const cDoc = await c.fetchDoc();
      const presence = new awarenessProtocol.Awareness(cDoc);
      c.sendAwareness(awarenessProtocol.encodeAwarenessUpdate(presence, [cDoc.clientID]));
      await until(() => srv.hub.rooms.get(docNameFor(id))!.owners.has(cDoc.clientID), 5000, 'session claimed');
      await new Promise((r) => setTimeout(r, 50));
      auto = false;
      while (held.length) held.shift()!();
      const sv = Y.encodeStateVector(cDoc);
      sectionOf(cDoc, visitId, 'vitals')!.set('spo2', 97);
      c.sendUpdate(Y.encodeStateAsUpdate(cDoc, sv));
      await until(() => seenByB() === 4, 5000, 'a presence-announced session\'s first edit reaches the room while its fsync is held');
      expect(held.length).toBe(1);
      await release();
      presence.destroy();
      c.close();
      a.close();
      b.close();
    } finally {
      clearInterval(pass);
      spy.mockRestore();
      while (held.length) held.shift()!();
      await srv.close();
    }
  });
});

/** The next commit batch that stores an update fails as a whole, as on a full disk. */
function failNextStoringBatch(srv: RunningServer): void {
  const docs = srv.ctx.docs;
  const append = docs.append.bind(docs);
  docs.append = (name, u) => {
    append(name, u);
    docs.append = append;
    srv.ctx.queue.write(() => {
      throw new Error('disk full');
    });
  };
}

describe('sent on once committed', () => {
  it('an edit reaches a colleague only once it is committed: another connection to the database file sees it at that moment', async () => {
    const srv = await testServer();
    const token = await login(srv.url, 'nurse');
    const { id, visitId } = (await api<{ id: string; visitId: string }[]>(srv.url, token, 'GET', '/api/patients')).body[0]!;
    const doc = docNameFor(id);
    const colleague = new RawClient(srv.url, doc, await login(srv.url, 'clinician'));
    const tablet = new RawClient(srv.url, doc, token);
    await Promise.all([colleague.opened, tablet.opened]);
    const local = await tablet.fetchDoc();
    await colleague.fetchDoc();
    const edit = async (value: number): Promise<void> => {
      const sv = Y.encodeStateVector(local);
      sectionOf(local, visitId, 'vitals')!.set('heartRate', value);
      const before = colleague.received.length;
      tablet.sendUpdate(Y.encodeStateAsUpdate(local, sv));
      await colleague.waitFor((r) => r.type === 0 && r.step === 2, 5000, before);
    };
    await edit(80); // the session's first edit, which waits for the disk anyway
    // What a crash of the server would leave: only what is committed.
    const reader = new Database(srv.ctx.db.name, { readonly: true });
    const stored = reader.prepare('SELECT count(*) AS n FROM doc_updates WHERE doc = ?');
    const storedNow = (): number => (stored.get(doc) as { n: number }).n;
    const atSend: number[] = [];
    const onServer = srv.hub.connections().find((c) => c.actor.username === 'clinician')!;
    const sendBroadcast = onServer.sendBroadcast.bind(onServer);
    onServer.sendBroadcast = (b) => {
      atSend.push(storedNow());
      sendBroadcast(b);
    };
    const first = storedNow();
    for (let i = 1; i <= 5; i++) await edit(80 + i);
    // Sent before its commit, a change the server then lost in a crash would be with the colleague
    // only, and the colleague's device would send it back as if it were theirs.
    expect(atSend).toEqual([first + 1, first + 2, first + 3, first + 4, first + 5]);
    onServer.sendBroadcast = sendBroadcast;
    reader.close();
    colleague.close();
    tablet.close();
    await srv.close();
  });
});

describe('a commit that fails', () => {
  it('a session claimed from its presence has its first edit sent on only once the claim is on record, even when that commit fails', async () => {
    const srv = await testServer();
    const token = await login(srv.url, 'nurse');
    const { id, visitId } = (await api<{ id: string; visitId: string }[]>(srv.url, token, 'GET', '/api/patients')).body[0]!;
    const colleague = new RawClient(srv.url, docNameFor(id), await login(srv.url, 'clinician'));
    const tablet = new RawClient(srv.url, docNameFor(id), token);
    await Promise.all([colleague.opened, tablet.opened]);
    const local = await tablet.fetchDoc();
    await colleague.fetchDoc();
    const updatesAtColleague = (): number => colleague.received.filter((r) => r.type === 0 && r.step === 2).length;
    const before = updatesAtColleague();
    // Who owns the tablet's session, as committed, when the edit reaches the colleague.
    const owner = srv.ctx.db.prepare('SELECT user_id FROM client_owners WHERE doc = ? AND client_id = ?');
    let ownerAtArrival: unknown = 'not arrived';
    colleague.ws.on('message', () => {
      if (ownerAtArrival === 'not arrived' && updatesAtColleague() > before) ownerAtArrival = (owner.get(docNameFor(id), local.clientID) as { user_id: string } | undefined)?.user_id ?? null;
    });
    // The batch holding the claim and the edit fails as a whole (as on a full disk).
    failNextStoringBatch(srv);
    // Presence, then the first edit, in one network write: both are handled in the same turn,
    // before the claim's batch commits.
    const presence = new awarenessProtocol.Awareness(local);
    const sv = Y.encodeStateVector(local);
    sectionOf(local, visitId, 'vitals')!.set('respiratoryRate', 18);
    const socket = (tablet.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    tablet.sendAwareness(awarenessProtocol.encodeAwarenessUpdate(presence, [local.clientID]));
    tablet.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    socket.uncork();
    expect((await tablet.waitClosed()).code).toBe(1011);
    // The record in memory kept the edit; once it is stored again with the claim, the colleague gets
    // it. Sent on before its claim was stored, a server dying then would have left the edit with
    // colleagues and the session with no owner on record, for whoever sent it back first to claim.
    await until(() => updatesAtColleague() > before, 5000, 'the edit at the colleague');
    expect(ownerAtArrival).toBe(srv.ctx.users.byUsername('nurse')!.id);
    // The tablet reconnects and sends it again: answered as saved.
    const again = new RawClient(srv.url, docNameFor(id), token);
    await again.opened;
    await again.fetchDoc();
    again.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    await again.waitFor((r) => r.ext?.type === 'saved');
    const fromDisk = srv.ctx.docs.load(docNameFor(id)).doc;
    expect(sectionOf(fromDisk, visitId, 'vitals')!.get('respiratoryRate')).toBe(18);
    colleague.close();
    again.close();
    presence.destroy();
    await srv.close();
  });

  it('loses nothing acknowledged later that builds on the change whose commit failed, and a colleague who got that change first ends with the record as stored', async () => {
    const srv = await testServer();
    const token = await login(srv.url, 'nurse');
    const { id, visitId } = (await api<{ id: string; visitId: string }[]>(srv.url, token, 'GET', '/api/patients')).body[0]!;
    // A colleague on the record, with a stock client.
    const colleague = stockClient(srv.url, docNameFor(id), await login(srv.url, 'clinician'));
    await synced(colleague.provider);
    const colleagueText = (): string => sectionOf<Y.Text>(colleague.doc, visitId, 'assessment')?.toString() ?? '';
    const raw = new RawClient(srv.url, docNameFor(id), token);
    await raw.opened;
    const local = await raw.fetchDoc();
    const text = sectionOf<Y.Text>(local, visitId, 'assessment')!;
    const sendText = (c: RawClient, s: string): void => {
      const sv = Y.encodeStateVector(local);
      text.insert(text.length, s);
      c.sendUpdate(Y.encodeStateAsUpdate(local, sv));
    };
    // The session's first edit is stored (a session's first changes wait for the disk anyway).
    sendText(raw, 'Seen at 09:10. ');
    await raw.waitFor((r) => r.ext?.type === 'saved');
    await until(() => colleagueText() === 'Seen at 09:10. ', 5000, 'the first edit at the colleague');
    // The next batch that stores an update fails as a whole (as on a full disk).
    failNextStoringBatch(srv);
    sendText(raw, 'Chest pain, ');
    expect((await raw.waitClosed()).code).toBe(1011);
    // The record in memory kept it: the colleague gets it once it is stored again (in a snapshot).
    await until(() => colleagueText().includes('Chest pain, '), 5000, 'the failed change at the colleague');
    // The same tablet reconnects and types on: its new text sits after the text whose commit failed.
    const again = new RawClient(srv.url, docNameFor(id), token);
    await again.opened;
    sendText(again, 'radiating to the left arm');
    await again.waitFor((r) => r.ext?.type === 'saved');
    // What a restart after a crash would load now (no shutdown snapshot to paper over a gap).
    const fromDisk = srv.ctx.docs.load(docNameFor(id)).doc;
    expect(sectionOf<Y.Text>(fromDisk, visitId, 'assessment')!.toString()).toBe('Seen at 09:10. Chest pain, radiating to the left arm');
    expect(fromDisk.store.pendingStructs).toBeNull();
    const stored = sectionOf<Y.Text>(fromDisk, visitId, 'assessment')!.toString();
    await until(() => colleagueText() === stored, 5000, 'the colleague holding what is stored');
    colleague.provider.destroy();
    again.close();
    await srv.close();
  });
});
