// The targets for Pamoja (gate on), checked against this run's own y-websocket figures.

import type { Figures } from '../scenarios.js';

export interface Verdict {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export function verdicts(pamoja: Figures, ref: Figures | undefined): Verdict[] {
  const out: Verdict[] = [];
  const has = (f: Figures | undefined, k: keyof Figures): boolean => typeof f?.[k] === 'number' && !Number.isNaN(f[k]);
  const pctOff = (v: number, t: number): string => `${(((v - t) / t) * 100).toFixed(0)}%`;
  if (has(ref, 'ingestPerSec') && has(pamoja, 'ingestPerSec')) {
    out.push({
      what: 'ingest updates/s', target: `>= ${ref!.ingestPerSec.toFixed(0)} (y-websocket)`,
      measured: `${pamoja.ingestPerSec.toFixed(0)} (${pctOff(pamoja.ingestPerSec, ref!.ingestPerSec)})`,
      met: pamoja.ingestPerSec >= ref!.ingestPerSec,
    });
  }
  if (ref && has(ref, 'manyP99') && has(pamoja, 'manyP99')) {
    out.push({
      what: 'fan-out p99, many rooms', target: `<= ${ref.manyP99.toFixed(2)} ms (y-websocket)`,
      measured: `${pamoja.manyP99.toFixed(2)} ms (${pctOff(pamoja.manyP99, ref.manyP99)})`, met: pamoja.manyP99 <= ref.manyP99,
    });
  }
  // Memory: the peak over the run (what a machine must have), the figure at its end, and what is
  // left after a full collection with the connections still open (the least noisy of the three).
  for (const [k, when] of [['rssManyPeakMB', 'peak'], ['rssManyMB', 'at end of run'], ['rssManyHeldMB', 'held after a full GC']] as const) {
    if (!ref || !has(ref, k) || !has(pamoja, k)) continue;
    out.push({
      what: `RSS at many connections, ${when}`, target: `<= ${ref[k].toFixed(1)} MB (y-websocket)`,
      measured: `${pamoja[k].toFixed(1)} MB (${pctOff(pamoja[k], ref[k])})`, met: pamoja[k] <= ref[k],
    });
  }
  if (has(pamoja, 'cpuUsPerUpdate')) out.push({
    what: 'server CPU per accepted update', target: '<= 25 µs',
    measured: `${pamoja.cpuUsPerUpdate.toFixed(1)} µs`, met: pamoja.cpuUsPerUpdate <= 25,
  });
  if (has(pamoja, 'bundleMs')) out.push({
    what: 'offline bundle checked and saved', target: '<= 1000 ms',
    measured: `${pamoja.bundleMs.toFixed(1)} ms`, met: pamoja.bundleMs <= 1000,
  });
  return out;
}

export function renderVerdicts(v: Verdict[]): string {
  return v.map((x) => `${x.met ? 'MET ' : 'MISS'}  ${x.what}: ${x.measured}; target ${x.target}`).join('\n');
}
