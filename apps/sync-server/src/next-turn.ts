// Lets the event loop take its turn (every socket read, timer and commit waiting) before a long job
// goes on with its next step.

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
