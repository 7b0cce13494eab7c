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

  it('gives no verdict for a figure that was not measured', () => {
    const v = verdicts(figures({ manyP99: 5, rssManyPeakMB: 100, cpuUsPerUpdate: 30 }), figures({ manyP99: 4, rssManyMB: 90 }));
    expect(v.map((x) => [x.what, x.met])).toEqual([
      ['fan-out p99, many rooms', false],
      ['server CPU per accepted update', false],
    ]);
  });
});
