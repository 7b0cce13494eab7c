// The benchmark's verdicts: each issue target is checked against the same run's y-websocket figures,
// and a figure a run did not measure gives no verdict rather than a false one.

import { describe, expect, it } from 'vitest';
import type { Figures } from '../bench/scenarios.js';
import { renderVerdicts, verdicts } from '../bench/report/targets.js';

const figures = (f: Partial<Figures>): Figures => f as Figures;

describe('bench verdicts', () => {
  it('compares every memory figure with y-websocket, the held one included', () => {
    const v = verdicts(
      figures({ rssManyPeakMB: 130, rssManyMB: 125, rssManyHeldMB: 121 }),
      figures({ rssManyPeakMB: 140, rssManyMB: 120, rssManyHeldMB: 121 }),
    );
    expect(v.map((x) => [x.what, x.met])).toEqual([
      ['RSS at many connections, peak', true],
      ['RSS at many connections, at end of run', false],
      ['RSS at many connections, held after a full GC', true],
    ]);
    expect(renderVerdicts(v)).toContain('MISS  RSS at many connections, at end of run: 125.0 MB (4%); target <= 120.0 MB (y-websocket)');
  });

  it('shows the digits that decide a verdict when both figures round alike', () => {
    const v = verdicts(
      figures({ manyP99: 4.0412, rssManyPeakMB: 130, rssManyMB: 128.6, rssManyHeldMB: 122.1289 }),
      figures({ manyP99: 4.0371, rssManyPeakMB: 130, rssManyMB: 130.3, rssManyHeldMB: 122.0898 }),
    );
    const text = renderVerdicts(v);
    expect(text).toContain('MISS  fan-out p99, many rooms: 4.041 ms (+0.1%); target <= 4.037 ms (y-websocket)');
    expect(text).toContain('MISS  RSS at many connections, held after a full GC: 122.13 MB (+0.03%); target <= 122.09 MB (y-websocket)');
    // Equal figures stay as they are (MET: no worse), and differences of a percent or more keep whole percents.
    expect(text).toContain('MET   RSS at many connections, peak: 130.0 MB (0%); target <= 130.0 MB (y-websocket)');
    expect(text).toContain('MET   RSS at many connections, at end of run: 128.6 MB (-1%); target <= 130.3 MB (y-websocket)');
  });

  it('lists each server\'s p99 runs beside the medians it compares', () => {
    const run = (p99: number) => ({ p50: 0.5, p99, samples: 15_000, loadLoopP99: 1.9, loadLoopMax: 8, steal: 0, serverCpu: 22 });
    const v = verdicts(
      figures({ manyP99: 3.53, manyRuns: [run(3.01), run(3.53), run(5.46)] }),
      figures({ manyP99: 3.27, manyRuns: [run(3.27), run(4.0), run(3.27)] }),
    );
    expect(renderVerdicts(v)).toBe('MISS  fan-out p99, many rooms: 3.53 ms (8%; runs 3.01, 3.53, 5.46); target <= 3.27 ms (y-websocket; runs 3.27, 4.00, 3.27)');
  });

  it('gives no verdict for a figure that was not measured', () => {
    const v = verdicts(figures({ manyP99: 5, rssManyPeakMB: 100, cpuUsPerUpdate: 30 }), figures({ manyP99: 4, rssManyMB: 90 }));
    expect(v.map((x) => [x.what, x.met])).toEqual([
      ['fan-out p99, many rooms', false],
      ['server CPU per accepted update', false],
    ]);
  });
});
