// How `npm start` runs the server, read from its one definition (apps/sync-server/package.json,
// script "start"), so the benchmark and the fault suites run it with the same node flags and
// environment a clinic gets (README "Memory").

import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PACKAGE = path.join(ROOT, 'apps/sync-server/package.json');

export interface StartCommand {
  /** Environment variables the script sets before `node`. */
  env: Record<string, string>;
  /** Node's own flags, in order. */
  nodeFlags: string[];
  /** The bundle it starts (absolute). */
  entry: string;
}

/** Parses `VAR=value ... node --flag ... dist/main.cjs`; anything else is an error worth seeing. */
export function parseStartScript(script: string, cwd: string): StartCommand {
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]!); i++) {
    const w = words[i]!;
    env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  if (words[i] !== 'node') throw new Error(`start script should run node, got: ${script}`);
  const nodeFlags: string[] = [];
  for (i++; i < words.length && words[i]!.startsWith('--'); i++) nodeFlags.push(words[i]!);
  if (i !== words.length - 1) throw new Error(`start script should end with the bundle to run, got: ${script}`);
  return { env, nodeFlags, entry: path.resolve(cwd, words[i]!) };
}

export function serverStartCommand(): StartCommand {
  const pkg = JSON.parse(fs.readFileSync(PACKAGE, 'utf8')) as { scripts: Record<string, string> };
  return parseStartScript(pkg.scripts.start!, path.dirname(PACKAGE));
}
