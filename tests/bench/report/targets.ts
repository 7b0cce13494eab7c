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
  const pctOff = (v: number, t: number): string => {
    const pct = ((v - t) / t) * 100;
    // A difference under half a percent still decides the verdict: show it rather than "0%".
    return v !== t && Math.abs(pct) < 0.5 ? `${pct > 0 ? '+' : ''}${pct.toPrecision(1)}%` : `${pct.toFixed(0)}%`;
  };
  // Both figures with the digits it takes to tell them apart, when they differ (at most 4).
  const pair = (v: number, t: number, digits: number): [string, string] => {
    let d = digits;
    while (d < 4 && v !== t && v.toFixed(d) === t.toFixed(d)) d++;
    return [v.toFixed(d), t.toFixed(d)];
  };
  if (has(ref, 'ingestPerSec') && has(pamoja, 'ingestPerSec')) {
    out.push({
      what: 'ingest updates/s', target: `>= ${ref!.ingestPerSec.toFixed(0)} (y-websocket)`,
      measured: `${pamoja.ingestPerSec.toFixed(0)} (${pctOff(pamoja.ingestPerSec, ref!.ingestPerSec)})`,
      met: pamoja.ingestPerSec >= ref!.ingestPerSec,
    });
  }
  if (ref && has(ref, 'manyP99') && has(pamoja, 'manyP99')) {
    const [v, t] = pair(pamoja.manyP99, ref.manyP99, 2);
    // The verdict compares medians; each server's runs are shown too, since from one run to the next
    // they move by more than the two servers differ.
    const runs = (f: Figures): string => ((f.manyRuns?.length ?? 0) > 1 ? `; runs ${f.manyRuns.map((r) => r.p99.toFixed(2)).join(', ')}` : '');
    out.push({
      what: 'fan-out p99, many rooms', target: `<= ${t} ms (y-websocket${runs(ref)})`,
      measured: `${v} ms (${pctOff(pamoja.manyP99, ref.manyP99)}${runs(pamoja)})`, met: pamoja.manyP99 <= ref.manyP99,
    });
  }
  // Memory: the peak over the run (what a machine must have), the figure at its end, and what is
  // left after a full collection with the connections still open (the least noisy of the three).
  for (const [k, when] of [['rssManyPeakMB', 'peak'], ['rssManyMB', 'at end of run'], ['rssManyHeldMB', 'held after a full GC']] as const) {
    if (!ref || !has(ref, k) || !has(pamoja, k)) continue;
    const [v, t] = pair(pamoja[k], ref[k], 1);
    out.push({
      what: `RSS at many connections, ${when}`, target: `<= ${t} MB (y-websocket)`,
      measured: `${v} MB (${pctOff(pamoja[k], ref[k])})`, met: pamoja[k] <= ref[k],
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
