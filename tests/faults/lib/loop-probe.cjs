// An idle process that only measures its own event-loop delay, beside the server in the soak: when
// the server's loop stalls and this one's does too, the machine stalled (the host, the disk, the other
// core's load), not the server's code. Answers each 'read' message with the delay since the last one.
//
// It times a 10 ms interval timer itself: node's monitorEventLoopDelay, in a process this idle, did
// not record a stop of the whole process (SIGSTOP) once the histogram had been read and reset twice.

const TICK_MS = 10;
let last = performance.now();
let lateness = [];
setInterval(() => {
  const now = performance.now();
  lateness.push(Math.max(0, now - last - TICK_MS));
  last = now;
}, TICK_MS);

process.on('message', (m) => {
  if (m !== 'read') return;
  // The time since the last tick counts too: a stall still going on is part of this window.
  const sorted = [...lateness, Math.max(0, performance.now() - last - TICK_MS)].sort((a, b) => a - b);
  process.send({ p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))], max: sorted[sorted.length - 1] });
  lateness = [];
});
process.on('disconnect', () => process.exit(0));
