// The records' bytes for the metrics page: exact sums, taken a few rows at a time so a scrape of a
// large clinic's database does not hold up the event loop.

import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/sync-server/src/storage/db.js';
import { RecordBytes } from '../../apps/sync-server/src/admin/metrics.js';
import { tempDir } from '../helpers/server.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('records bytes on the metrics page', () => {
  it('sums snapshots and log in small steps, with other work running between them', async () => {
    const db = openDatabase(tempDir());
    const snap = db.prepare('INSERT INTO doc_snapshots (doc, data, upto_seq, updated_at) VALUES (?, ?, 0, ?)');
    const log = db.prepare('INSERT INTO doc_updates (doc, seq, data) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 50; i++) snap.run(`patient:${String(i).padStart(3, '0')}`, Buffer.alloc(100 + i), new Date().toISOString());
      // Several rows per record, so a step can end in the middle of one record's log.
      for (let i = 0; i < 20; i++) for (let seq = 1; seq <= 4; seq++) log.run(`patient:${String(i).padStart(3, '0')}`, i * 10 + seq, Buffer.alloc(seq));
    })();
    const bytes = new RecordBytes(db, 60_000, 7);
    // Nothing summed yet: the first read starts a sweep and has no figure to give.
    expect(bytes.read()).toEqual({ snapshots: NaN, log: NaN });
    let turns = 0;
    while (Number.isNaN(bytes.read().snapshots) && turns < 100) {
      await turn();
      turns++;
    }
    // 50 snapshot rows and 80 log rows at 7 a step: the loop took other turns meanwhile.
    expect(turns).toBeGreaterThanOrEqual(Math.ceil(50 / 7) + Math.ceil(80 / 7) - 1);
    const exact = db.prepare('SELECT (SELECT sum(length(data)) FROM doc_snapshots) AS s, (SELECT sum(length(data)) FROM doc_updates) AS l').get() as { s: number; l: number };
    expect(bytes.read()).toEqual({ snapshots: exact.s, log: exact.l });

    // A newer figure waits for the next sweep, at most once per period.
    log.run('patient:999', 1, Buffer.alloc(1000));
    for (let i = 0; i < 30; i++) await turn();
    expect(bytes.read().log).toBe(exact.l);
    db.close();
  });

  it('gives up a sweep when the database closes under it, without a figure from part of one', async () => {
    const db = openDatabase(tempDir());
    const snap = db.prepare('INSERT INTO doc_snapshots (doc, data, upto_seq, updated_at) VALUES (?, ?, 0, ?)');
    for (let i = 0; i < 20; i++) snap.run(`patient:${i}`, Buffer.alloc(10), new Date().toISOString());
    const bytes = new RecordBytes(db, 0, 2);
    bytes.read();
    await turn();
    db.close();
    for (let i = 0; i < 20; i++) await turn();
    expect(bytes.read()).toEqual({ snapshots: NaN, log: NaN });
  });
});
