// Bundles the server into one CommonJS file: our TypeScript, the workspace packages and every
// JavaScript dependency. Used by `npm start` (via build.ts) and by the fault suites.
//
// Why the dependencies are inside (README "Memory"): V8 keeps the source text of every module it
// loads for as long as the process runs, and node_modules carry comments, whole unused features
// (zod's translations, pino's transports) and, in some files, one non-Latin-1 character that makes V8
// store the whole file at two bytes per character. One compact, ASCII bundle with the unused parts
// shaken out is about 0.5 MB where the separate modules held about 4 MB, and Node no longer loads its
// CommonJS export scanner (a WebAssembly module with its own memory) at start-up.
//
// CommonJS rather than an ES module: for an ES module entry Node starts its ES module loader (a dozen
// of its own modules: resolution, translators, the module map), which the server never uses again.
// The same server as a CommonJS file held about 1.3 MB less after start-up (resident, after a full
// collection). The source stays ES modules; esbuild writes the bundle, and `import.meta.url` (the
// one place the server asks where it is) becomes the bundle's own file URL.
//
// Identifiers are kept, so a stack trace in the log names the real functions. The source map is
// written next to the bundle for `node --enable-source-maps` when someone needs file and line.

import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

/** Native addons (and ws's optional ones) load from node_modules at run time. */
const NATIVE = ['better-sqlite3', 'bufferutil', 'utf-8-validate'];

export async function bundleServer(outfile: string): Promise<void> {
  await build({
    entryPoints: [path.join(root, 'src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: NATIVE,
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    sourcemap: 'linked',
    sourcesContent: false,
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
}
