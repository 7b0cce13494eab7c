// Watches one thread of another process (the server's main thread, which runs its event loop) and
// records when it sleeps uninterruptibly in the kernel (state D: waiting on the disk), with the
// kernel stack and syscall it waits in. Polls /proc about every 2 ms. Answers each 'read' message with
// what it saw since the last one. The stack needs root (/proc/<pid>/task/<tid>/stack); without it the
// wait channel (wchan) names the kernel function.
//   fork('kernel-waits.cjs', [pid])

const fs = require('node:fs');

const pid = Number(process.argv[2]);
const dir = `/proc/${pid}/task/${pid}`;
const POLL_MS = 2;
const pause = new Int32Array(new SharedArrayBuffer(4));

const readOr = (f) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};

/** The stack, innermost first, without addresses: "ext4_block_write_begin < ... < __x64_sys_pwrite64". */
function where() {
  const stack = readOr(`${dir}/stack`);
  const frames = stack
    ? stack.split('\n').map((l) => l.replace(/^\[<[0-9a-f]+>\] /, '').replace(/\+0x.*$/, '')).filter((f) => f && !f.startsWith('entry_SYSCALL') && f !== 'do_syscall_64')
    : [readOr(`${dir}/wchan`) || '?'];
  return frames.slice(0, 10).join(' < ');
}

let window = { samples: 0, waits: 0, longestMs: 0, byStack: new Map() };
let episode = null; // { start, stacks: Map }

function endEpisode(now) {
  const ms = now - episode.start;
  if (ms > window.longestMs) {
    window.longestMs = ms;
    window.longestStack = [...episode.stacks.entries()].sort((a, b) => b[1] - a[1])[0][0];
  }
  episode = null;
}

function poll() {
  const stat = readOr(`${dir}/stat`);
  if (stat === null) return process.exit(0); // the process is gone
  const now = performance.now();
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  window.samples++;
  if (state === 'D') {
    window.waits++;
    const at = where();
    window.byStack.set(at, (window.byStack.get(at) ?? 0) + 1);
    if (!episode) episode = { start: now, stacks: new Map() };
    episode.stacks.set(at, (episode.stacks.get(at) ?? 0) + 1);
  } else if (episode) endEpisode(now);
  Atomics.wait(pause, 0, 0, POLL_MS);
  setImmediate(poll); // lets the read requests in
}

process.on('message', (m) => {
  if (m !== 'read') return;
  if (episode) endEpisode(performance.now());
  const share = window.samples ? window.waits / window.samples : 0;
  process.send({
    // Time in D, estimated from the share of samples, over the window's length.
    share,
    samples: window.samples,
    longestMs: Math.round(window.longestMs),
    longestStack: window.longestStack ?? null,
    stacks: [...window.byStack.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([stack, n]) => ({ stack, samples: n })),
  });
  window = { samples: 0, waits: 0, longestMs: 0, byStack: new Map() };
});
process.on('disconnect', () => process.exit(0));
poll();
