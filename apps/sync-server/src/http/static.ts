// Serves the built web app; unknown paths get index.html so the app's own routes work on reload.

import fs from 'node:fs';
import path from 'node:path';
import type { Context } from 'hono';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.woff2': 'font/woff2',
};

export function staticFiles(root: string) {
  const resolvedRoot = path.resolve(root);
  return (c: Context): Response => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(c.req.url).pathname);
    } catch {
      return c.text('Bad request: the path is not valid percent-encoding', 400);
    }
    let file = path.resolve(resolvedRoot, `.${urlPath}`);
    if (!file.startsWith(resolvedRoot + path.sep) && file !== resolvedRoot) return c.text('Not found', 404);
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(resolvedRoot, 'index.html');
    if (!fs.existsSync(file)) {
      return c.text('The web app is not built. Run `npm start` (it builds it) or `npm run build -w @pamoja/web`.', 503);
    }
    const ext = path.extname(file);
    const headers: Record<string, string> = { 'content-type': TYPES[ext] ?? 'application/octet-stream' };
    // Hashed assets never change; the shell and service worker must always be fresh.
    headers['cache-control'] = urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return new Response(fs.readFileSync(file), { headers });
  };
}
