// The side-by-side table: one column per server, ratios against the y-websocket reference server.

import type { Figures } from '../scenarios.js';

interface Row {
  label: string;
  key: keyof Figures;
  unit: string;
  /** Higher is better (throughput) or lower is better (latency, memory, time). */
  better: 'higher' | 'lower';
  digits: number;
}

export const ROWS: Row[] = [
  { label: 'ingest, accepted updates/s (persisted)', key: 'ingestPerSec', unit: '/s', better: 'higher', digits: 0 },
  { label: 'server CPU per accepted update', key: 'cpuUsPerUpdate', unit: 'µs', better: 'lower', digits: 1 },
  { label: 'fan-out p50, many rooms', key: 'manyP50', unit: 'ms', better: 'lower', digits: 2 },
  { label: 'fan-out p99, many rooms', key: 'manyP99', unit: 'ms', better: 'lower', digits: 2 },
  { label: 'server CPU during many-rooms runs', key: 'manyServerCpu', unit: '% of a core', better: 'lower', digits: 0 },
  { label: 'fan-out p50, one hot room', key: 'hotP50', unit: 'ms', better: 'lower', digits: 2 },
  { label: 'fan-out p99, one hot room', key: 'hotP99', unit: 'ms', better: 'lower', digits: 2 },
  { label: 'RSS peak during many-rooms run', key: 'rssManyPeakMB', unit: 'MB', better: 'lower', digits: 1 },
  { label: 'RSS at end of many-rooms run', key: 'rssManyMB', unit: 'MB', better: 'lower', digits: 1 },
  { label: 'RSS held, many rooms (after full GC)', key: 'rssManyHeldMB', unit: 'MB', better: 'lower', digits: 1 },
  { label: 'offline bundle synced + saved', key: 'bundleMs', unit: 'ms', better: 'lower', digits: 1 },
  { label: 'open large record, from disk', key: 'openColdMs', unit: 'ms', better: 'lower', digits: 1 },
  { label: 'open large record, in memory', key: 'openWarmMs', unit: 'ms', better: 'lower', digits: 1 },
  { label: 'memory per open document (+ its viewer)', key: 'memPerDocKB', unit: 'KB', better: 'lower', digits: 1 },
  { label: 'memory per idle connection', key: 'memPerConnKB', unit: 'KB', better: 'lower', digits: 1 },
  { label: 'cold start', key: 'coldStartMs', unit: 'ms', better: 'lower', digits: 0 },
];

const REFERENCE = 'y-websocket 2';

function fmt(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Ratio against the reference, written so that > 1.00x always means "better than y-websocket". */
function ratio(v: number | null, ref: number | null, better: Row['better']): string {
  if (v === null || ref === null || !v || !ref || Number.isNaN(v) || Number.isNaN(ref)) return '';
  const r = better === 'higher' ? v / ref : ref / v;
  return ` (${r.toFixed(2)}x)`;
}

export function renderTable(results: { name: string; figures: Figures }[]): string {
  const ref = results.find((r) => r.name === REFERENCE)?.figures;
  const header = ['', ...results.map((r) => r.name)];
  const lines = ROWS.map((row) => [
    `${row.label} (${row.unit})`,
    ...results.map((r) => {
      const v = r.figures[row.key] as number | null;
      return fmt(v, row.digits) + (ref && r.name !== REFERENCE ? ratio(v, ref[row.key] as number | null, row.better) : '');
    }),
  ]);
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((l) => l[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(line)].join('\n') +
    `\nRatios are against ${REFERENCE}; above 1.00x means better than it (faster, higher or smaller).`;
}
