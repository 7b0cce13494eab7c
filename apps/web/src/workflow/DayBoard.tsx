// The clinic day board: patients per step, the longest wait now, and how many finished today.
import { useEffect, useState } from 'react';
import { statusLabel } from '../record/format.js';
import { fetchBoard, type Board } from './workflow-api.js';

export function DayBoard({ tick }: { tick: number }) {
  const [board, setBoard] = useState<Board | null>(null);
  useEffect(() => {
    fetchBoard().then(setBoard).catch(() => undefined);
  }, [tick]);
  if (!board) return null;
  const longest = board.longestWaits[0];
  return (
    <section className="card wf-board" aria-label="Clinic day board" data-testid="day-board">
      <div className="wf-board-steps">
        {board.steps.map((s) => (
          <div key={s.step} className="wf-board-step">
            <span className="wf-board-n">{s.total}</span>
            <span className="muted">{statusLabel(s.step)}</span>
            {s.inService > 0 && <span className="hint">{s.inService} being seen</span>}
          </div>
        ))}
        <div className="wf-board-step done">
          <span className="wf-board-n">{board.completedToday.length}</span>
          <span className="muted">Completed today</span>
        </div>
      </div>
      {longest && (
        <p className="hint">Longest wait: {longest.name} ({longest.opNumber}), {Math.floor(longest.waitMinutes)} min, {statusLabel(longest.step).toLowerCase()}</p>
      )}
    </section>
  );
}
