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

/** A thread's stack, innermost first, without addresses: "ext4_block_write_begin < ... < __x64_sys_pwrite64". */
function where(taskDir) {
  const stack = readOr(`${taskDir}/stack`);
  const frames = stack
    ? stack.split('\n').map((l) => l.replace(/^\[<[0-9a-f]+>\] /, '').replace(/\+0x.*$/, '')).filter((f) => f && !f.startsWith('entry_SYSCALL') && f !== 'do_syscall_64')
    : [readOr(`${taskDir}/wchan`)].filter((w) => w && w !== '0');
  // Empty when the wait ended between reading the thread's state and its stack.
  return frames.length ? frames.slice(0, 10).join(' < ') : '(over before its stack was read)';
}

const stateOf = (stat) => stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);

/** The process's other threads (libuv's pool, V8's helpers) waiting in the kernel at the same moment. */
function othersWaiting() {
  const out = [];
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    if (Number(tid) === pid) continue;
    const stat = readOr(`/proc/${pid}/task/${tid}/stat`);
    if (stat && stateOf(stat) === 'D') out.push(where(`/proc/${pid}/task/${tid}`));
  }
  return out;
}

let window = { samples: 0, waits: 0, longestMs: 0, byStack: new Map() };
let episode = null; // { start, stacks: Map, others: Map }

function endEpisode(now) {
  const ms = now - episode.start;
  if (ms > window.longestMs) {
    window.longestMs = ms;
    const most = (m) => [...m.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
    window.longestStack = most(episode.stacks);
    window.longestOthers = most(episode.others);
  }
  episode = null;
}

function poll() {
  const stat = readOr(`${dir}/stat`);
  if (stat === null) return process.exit(0); // the process is gone
  const now = performance.now();
  const state = stateOf(stat);
  window.samples++;
  if (state === 'D') {
    window.waits++;
    const at = where(dir);
    window.byStack.set(at, (window.byStack.get(at) ?? 0) + 1);
    if (!episode) episode = { start: now, stacks: new Map(), others: new Map() };
    episode.stacks.set(at, (episode.stacks.get(at) ?? 0) + 1);
    for (const other of othersWaiting()) episode.others.set(other, (episode.others.get(other) ?? 0) + 1);
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
    longestOthers: window.longestOthers ?? null,
    stacks: [...window.byStack.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([stack, n]) => ({ stack, samples: n })),
  });
  window = { samples: 0, waits: 0, longestMs: 0, byStack: new Map() };
});
process.on('disconnect', () => process.exit(0));
poll();
