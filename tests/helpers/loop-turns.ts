// For jobs that must not hold the event loop: runs one while other work keeps asking for a turn of
// the loop, and says how many turns that other work got before the job was done.

export async function turnsDuring<T>(job: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const other = (): void => {
    turns++;
    if (running) setImmediate(other);
  };
  setImmediate(other);
  try {
    return { result: await job(), turns };
  } finally {
    running = false;
  }
}
