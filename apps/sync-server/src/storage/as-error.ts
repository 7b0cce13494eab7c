/** What a failed call threw, as an Error for an `onError` (SQLite and fs throw Errors; anything else is wrapped). */
export const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
