// Bundles the server (our TypeScript, including the workspace packages) into one ES module once per
// run, so the fault suites restart it in a fraction of the time tsx needs to compile it at every start.
// Same code, same dependencies (left external, loaded from node_modules); only the transpile moves.

import fs from 'node:fs';
import path from 'node:path';
import { bundleServer } from '../../../apps/sync-server/scripts/bundle.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
let built: Promise<string> | null = null;

export function serverBundle(): Promise<string> {
  built ??= (async () => {
    const dir = path.join(ROOT, 'node_modules/.cache/pamoja-faults');
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, `server-${process.pid}.mjs`);
    await bundleServer(out);
    process.once('exit', () => fs.rmSync(out, { force: true }));
    return out;
  })();
  return built;
}
