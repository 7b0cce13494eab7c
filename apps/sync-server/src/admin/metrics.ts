// Prometheus metrics in the text exposition format, one registry per server so several servers in
// one process (tests) do not share figures. Everything but two histograms and the records' bytes
// (RecordBytes, below) is read when scraped; the hot path only feeds the histograms. Written here
// rather than taken from a client library: with its default collectors (a GC observer called on
// every collection among them) and its tracing dependency, that library held about 1 MB of the
// server's memory for the same page of text.

import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { ServerContext } from '../context.js';
import type { Hub } from '../sync/hub.js';
import type { DB } from '../storage/db.js';

type Labels = Record<string, string>;
type Sample = [labels: Labels | null, value: number];

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  read: () => Sample[];
}

const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels | null): string =>
  l && Object.keys(l).length ? `{${Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';

/** A histogram with fixed upper bounds, in seconds (cumulative buckets, as Prometheus expects). */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]!) this.counts[i]!++;
  }

  samples(name: string): string[] {
    return [
      ...this.bounds.map((b, i) => `${name}_bucket{le="${b}"} ${this.counts[i]}`),
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum}`,
      `${name}_count ${this.count}`,
    ];
  }
}

export interface Metrics {
  contentType: string;
  /** The whole page, read now. */
  text(): string;
}

/** CPU seconds spent since start, and other figures of this process that Prometheus users expect. */
function processFamilies(prefix: string, lag: () => IntervalHistogram): Family[] {
  const startSeconds = Math.round((Date.now() - performance.now()) / 1000);
  const fds = (): number => {
    try {
      return fs.readdirSync('/proc/self/fd').length;
    } catch {
      return NaN;
    }
  };
  const heapSpaces = (pick: (s: v8.HeapSpaceInfo) => number): Sample[] =>
    v8.getHeapSpaceStatistics().map((s) => [{ space: s.space_name.replace(/_space$/, '') }, pick(s)]);
  // Read at scrape time, over the window since the last scrape (then started afresh).
  const lagFigure = (f: (h: IntervalHistogram) => number) => (): Sample[] => {
    const h = lag();
    return [[null, h.count ? f(h) / 1e9 : NaN]]; // NaN: no window yet (the first scrape starts it)
  };
  const p = `${prefix}process_`;
  const n = `${prefix}nodejs_`;
  return [
    { name: `${p}cpu_user_seconds_total`, help: 'User CPU time spent, in seconds', type: 'counter', read: () => [[null, process.cpuUsage().user / 1e6]] },
    { name: `${p}cpu_system_seconds_total`, help: 'System CPU time spent, in seconds', type: 'counter', read: () => [[null, process.cpuUsage().system / 1e6]] },
    {
      name: `${p}cpu_seconds_total`, help: 'User and system CPU time spent, in seconds', type: 'counter',
      read: () => {
        const u = process.cpuUsage();
        return [[null, (u.user + u.system) / 1e6]];
      },
    },
    { name: `${p}start_time_seconds`, help: 'Start time of the process since the Unix epoch, in seconds', type: 'gauge', read: () => [[null, startSeconds]] },
    { name: `${p}resident_memory_bytes`, help: 'Resident memory size, in bytes', type: 'gauge', read: () => [[null, process.memoryUsage.rss()]] },
    { name: `${p}open_fds`, help: 'Open file descriptors', type: 'gauge', read: () => [[null, fds()]] },
    { name: `${n}eventloop_lag_min_seconds`, help: 'Smallest event loop delay since the last scrape', type: 'gauge', read: lagFigure((h) => h.min) },
    { name: `${n}eventloop_lag_max_seconds`, help: 'Largest event loop delay since the last scrape', type: 'gauge', read: lagFigure((h) => h.max) },
    { name: `${n}eventloop_lag_mean_seconds`, help: 'Mean event loop delay since the last scrape', type: 'gauge', read: lagFigure((h) => h.mean) },
    { name: `${n}eventloop_lag_p50_seconds`, help: 'Median event loop delay since the last scrape', type: 'gauge', read: lagFigure((h) => h.percentile(50)) },
    { name: `${n}eventloop_lag_p90_seconds`, help: '90th percentile of event loop delay since the last scrape', type: 'gauge', read: lagFigure((h) => h.percentile(90)) },
    { name: `${n}eventloop_lag_p99_seconds`, help: '99th percentile of event loop delay since the last scrape', type: 'gauge', read: lagFigure((h) => h.percentile(99)) },
    { name: `${n}heap_size_total_bytes`, help: 'V8 heap size, in bytes', type: 'gauge', read: () => [[null, process.memoryUsage().heapTotal]] },
    { name: `${n}heap_size_used_bytes`, help: 'V8 heap in use, in bytes', type: 'gauge', read: () => [[null, process.memoryUsage().heapUsed]] },
    { name: `${n}external_memory_bytes`, help: 'Memory of C++ objects bound to JavaScript objects, in bytes', type: 'gauge', read: () => [[null, process.memoryUsage().external]] },
    { name: `${n}heap_space_size_total_bytes`, help: 'V8 heap space size, in bytes', type: 'gauge', read: () => heapSpaces((s) => s.space_size) },
    { name: `${n}heap_space_size_used_bytes`, help: 'V8 heap space in use, in bytes', type: 'gauge', read: () => heapSpaces((s) => s.space_used_size) },
    { name: `${n}version_info`, help: 'Node.js version', type: 'gauge', read: () => [[{ version: process.version }, 1]] },
  ];
}

export function createMetrics(ctx: ServerContext, hub: Hub): Metrics {
  const m = ctx.metrics;
  const families: Family[] = [];
  // One figure without labels, read when scraped (counters: numbers the server already keeps).
  const single = (type: 'counter' | 'gauge') => (name: string, help: string, read: () => number): void => {
    families.push({ name, help, type, read: () => [[null, read()]] });
  };
  const gauge = single('gauge');
  const counter = single('counter');

  // The delay monitor starts with the first scrape: a server nobody watches does not keep its
  // histogram. Each scrape reads the window since the one before.
  let monitor: IntervalHistogram | null = null;
  const lag = (): IntervalHistogram => {
    if (!monitor) {
      monitor = monitorEventLoopDelay({ resolution: 10 });
      monitor.enable();
    }
    return monitor;
  };
  families.push(...processFamilies('pamoja_', lag));

  gauge('pamoja_connections', 'Open WebSocket connections', () => hub.connections().length);
  gauge('pamoja_rooms', 'Patient records open in memory', () => hub.rooms.size);
  counter('pamoja_updates_accepted_total', 'Update messages that changed a record and were stored', () => m.updatesAccepted);
  counter('pamoja_updates_refused_total', 'Update messages with a refused change (messages checked together count together)', () => m.updatesRefused);
  counter('pamoja_messages_in_total', 'WebSocket messages received', () => m.messagesIn);
  counter('pamoja_bytes_in_total', 'WebSocket bytes received', () => m.bytesIn);
  counter('pamoja_connections_refused_total', 'WebSocket upgrades refused', () => m.connectionsRefused);
  counter('pamoja_connections_behind_total', 'WebSocket connections closed (4503) for too much waiting unsent to them', () => m.connectionsBehind);
  counter('pamoja_commit_batches_total', 'SQLite group-commit transactions', () => ctx.queue.stats.batches);
  counter('pamoja_commit_failures_total', 'SQLite group commits that failed', () => ctx.queue.stats.failures);

  // Audit ids are dense (verify checks it), so the last id is the row count without a table scan.
  gauge('pamoja_audit_rows', 'Rows in the audit trail', () =>
    (ctx.db.prepare('SELECT coalesce(max(id), 0) AS n FROM audit').get() as { n: number }).n);
  const dbFile = path.join(ctx.config.dataDir, 'pamoja.sqlite');
  const size = (f: string): number => {
    try {
      return fs.statSync(f).size;
    } catch {
      return 0;
    }
  };
  const records = new RecordBytes(ctx.db);
  families.push({
    name: 'pamoja_storage_bytes', help: 'Bytes on disk: SQLite file and WAL, and the record snapshots and update log inside it (as of the last sweep, at most a minute old; NaN before the first)', type: 'gauge',
    read: () => {
      const docs = records.read();
      return [[{ part: 'db' }, size(dbFile)], [{ part: 'wal' }, size(`${dbFile}-wal`)], [{ part: 'doc_snapshots' }, docs.snapshots], [{ part: 'doc_update_log' }, docs.log]];
    },
  });

  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const gate = new Histogram(buckets);
  const commit = new Histogram(buckets);
  ctx.events.on('sync-timing', (t) => {
    gate.observe(t.gateMs / 1000);
    if (t.commitMs !== null) commit.observe(t.commitMs / 1000);
  });
  const histograms: [string, string, Histogram][] = [
    ['pamoja_gate_seconds', 'Time to check and apply the update messages one connection sent together (synchronous part)', gate],
    ['pamoja_update_commit_seconds', 'Time from receiving an update until it is on disk (before the sender is told it is saved)', commit],
  ];

  return {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    text(): string {
      const lines: string[] = [];
      for (const f of families) {
        lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
        for (const [labels, value] of f.read()) lines.push(`${f.name}${labelText(labels)} ${value}`);
      }
      monitor?.reset(); // the lag figures above are for the window that ends here
      for (const [name, help, h] of histograms) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`, ...h.samples(name));
      return lines.join('\n') + '\n';
    },
  };
}

/**
 * Bytes of the record snapshots and of the update log inside the database. Summing them reads a page
 * of every stored record: for 20,000 records of 8 KB, 20,000 pages, 36 ms from the page cache and
 * 0.14-1.7 s from disk, which in one query held up every room at each scrape. A sweep sums them
 * `rowsPerStep` rows at a time, in turns of the event loop between other work (on those records the
 * loop then waited 4 ms at most); a scrape starts one when the last is `everyMs` old and reports the
 * last finished one.
 */
export class RecordBytes {
  private figures = { snapshots: NaN, log: NaN };
  private sweeping = false;
  private lastStart = -Infinity;

  constructor(private readonly db: DB, private readonly everyMs = 60_000, private readonly rowsPerStep = 64) {}

  read(): { snapshots: number; log: number } {
    if (!this.sweeping && this.db.open && performance.now() - this.lastStart >= this.everyMs) this.sweep();
    return this.figures;
  }

  private sweep(): void {
    this.sweeping = true;
    this.lastStart = performance.now();
    const snapshotsAfter = this.db.prepare('SELECT doc, length(data) AS n FROM doc_snapshots WHERE doc > ? ORDER BY doc LIMIT ?');
    const logAfter = this.db.prepare(
      'SELECT doc, seq, length(data) AS n FROM doc_updates WHERE (doc, seq) > (?, ?) ORDER BY doc, seq LIMIT ?',
    );
    const sums = { snapshots: 0, log: 0 };
    let part: 'snapshots' | 'log' = 'snapshots';
    let doc = '';
    let seq = -1;
    const step = (): void => {
      // The server closed the database meanwhile: no figure from a part of a sweep.
      if (!this.db.open) return void (this.sweeping = false);
      try {
        const rows = (part === 'snapshots' ? snapshotsAfter.all(doc, this.rowsPerStep) : logAfter.all(doc, seq, this.rowsPerStep)) as
          { doc: string; seq?: number; n: number }[];
        for (const r of rows) sums[part] += r.n;
        const last = rows.at(-1);
        if (last) {
          doc = last.doc;
          seq = last.seq ?? -1;
        }
        if (rows.length === this.rowsPerStep) {
          setImmediate(step).unref();
        } else if (part === 'snapshots') {
          part = 'log';
          doc = '';
          seq = -1;
          setImmediate(step).unref();
        } else {
          this.figures = sums;
          this.sweeping = false;
        }
      } catch {
        this.sweeping = false; // the next scrape starts again
      }
    };
    setImmediate(step).unref();
  }
}
