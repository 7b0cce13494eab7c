// Bundles the server once per run, exactly as `npm start` does (apps/sync-server/scripts/bundle.ts),
// so the fault suites run what a clinic runs and restart it in a fraction of the time tsx needs to
// compile it at every start. The bundle sits inside node_modules so the native addons it loads at run
// time (better-sqlite3) resolve from there.

import fs from 'node:fs';
import path from 'node:path';
import { bundleServer } from '../../../apps/sync-server/scripts/bundle.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
let built: Promise<string> | null = null;

export function serverBundle(): Promise<string> {
  built ??= (async () => {
    const dir = path.join(ROOT, 'node_modules/.cache/pamoja-faults');
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, `server-${process.pid}.cjs`);
    await bundleServer(out);
    process.once('exit', () => {
      fs.rmSync(out, { force: true });
      fs.rmSync(`${out}.map`, { force: true });
    });
    return out;
  })();
  return built;
}
