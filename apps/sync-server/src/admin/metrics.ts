// Prometheus metrics (prom-client), one registry per server so several servers in one process (tests)
// do not share figures. Gauges are read when scraped; the hot path only feeds two histograms.

import fs from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';

/** A counter mirroring a number the server already counts: each scrape adds what grew since the last. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name, help, registers: [registry],
    collect() {
      const v = read();
      if (v > seen) this.inc(v - seen);
      seen = v;
    },
  });
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
}

export function createMetrics(ctx: ServerContext, hub: Hub): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pamoja_' }); // pamoja_process_*, pamoja_nodejs_*
  const m = ctx.metrics;

  gauge(registry, 'pamoja_connections', 'Open WebSocket connections', () => hub.connections().length);
  gauge(registry, 'pamoja_rooms', 'Patient records open in memory', () => hub.rooms.size);
  mirroredCounter(registry, 'pamoja_updates_accepted_total', 'Update messages that changed a record and were stored', () => m.updatesAccepted);
  mirroredCounter(registry, 'pamoja_updates_refused_total', 'Update messages with a refused change (messages checked together count together)', () => m.updatesRefused);
  mirroredCounter(registry, 'pamoja_messages_in_total', 'WebSocket messages received', () => m.messagesIn);
  mirroredCounter(registry, 'pamoja_bytes_in_total', 'WebSocket bytes received', () => m.bytesIn);
  mirroredCounter(registry, 'pamoja_connections_refused_total', 'WebSocket upgrades refused', () => m.connectionsRefused);
  mirroredCounter(registry, 'pamoja_commit_batches_total', 'SQLite group-commit transactions', () => ctx.queue.stats.batches);
  mirroredCounter(registry, 'pamoja_commit_failures_total', 'SQLite group commits that failed', () => ctx.queue.stats.failures);

  // Audit ids are dense (verify checks it), so the last id is the row count without a table scan.
  gauge(registry, 'pamoja_audit_rows', 'Rows in the audit trail', () =>
    (ctx.db.prepare('SELECT coalesce(max(id), 0) AS n FROM audit').get() as { n: number }).n);
  const dbFile = path.join(ctx.config.dataDir, 'pamoja.sqlite');
  const size = (f: string): number => {
    try {
      return fs.statSync(f).size;
    } catch {
      return 0;
    }
  };
  new Gauge({
    name: 'pamoja_storage_bytes', help: 'Bytes on disk: SQLite file and WAL, and the record snapshots and update log inside it',
    labelNames: ['part'], registers: [registry],
    collect() {
      this.set({ part: 'db' }, size(dbFile));
      this.set({ part: 'wal' }, size(`${dbFile}-wal`));
      const docs = ctx.db.prepare(
        'SELECT (SELECT coalesce(sum(length(data)), 0) FROM doc_snapshots) AS snap, (SELECT coalesce(sum(length(data)), 0) FROM doc_updates) AS log',
      ).get() as { snap: number; log: number };
      this.set({ part: 'doc_snapshots' }, docs.snap);
      this.set({ part: 'doc_update_log' }, docs.log);
    },
  });

  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const gate = new Histogram({
    name: 'pamoja_gate_seconds', help: 'Time to check and apply the update messages one connection sent together (synchronous part)', buckets, registers: [registry],
  });
  const commit = new Histogram({
    name: 'pamoja_update_commit_seconds', help: 'Time from receiving an update until it is on disk (before the sender is told it is saved)',
    buckets, registers: [registry],
  });
  ctx.events.on('sync-timing', (t) => {
    gate.observe(t.gateMs / 1000);
    if (t.commitMs !== null) commit.observe(t.commitMs / 1000);
  });
  return registry;
}
