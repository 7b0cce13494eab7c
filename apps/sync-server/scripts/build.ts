// `npm run build -w @pamoja/sync-server`: the bundle `npm start` runs, with no TypeScript compiler at
// start-up or on the hot path.
import path from 'node:path';
import { bundleServer } from './bundle.js';

await bundleServer(path.resolve(import.meta.dirname, '../dist/main.cjs'));
