// Pamoja's service worker: keeps the app shell (index.html, its hashed assets, manifest, icon) so the
// app opens with no network. API calls and the sync WebSocket are never cached: records live in
// IndexedDB (y-indexeddb), the patient list in localStorage.
const CACHE = 'pamoja-shell-v1';
const SHELL = ['/', '/manifest.webmanifest', '/icon.svg'];

// Assets have content hashes in their names; read them from the current index.html so one install
// caches exactly the files this build needs.
async function precache() {
  const cache = await caches.open(CACHE);
  const res = await fetch('/', { cache: 'no-cache' });
  if (!res.ok) throw new Error('could not fetch the app shell');
  const html = await res.clone().text();
  await cache.put('/', res);
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await cache.addAll([...new Set([...assets, ...SHELL.slice(1)])]);
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/sync/') || url.pathname === '/healthz') return;

  // Pages: network first (a new build shows at once), the cached shell when offline.
  if (req.mode === 'navigate') {
    event.respondWith((async () => {
      try {
        const res = await fetch(req);
        if (res.ok) (await caches.open(CACHE)).put('/', res.clone());
        return res;
      } catch {
        return (await caches.match('/')) || new Response('Pamoja is offline and was never opened on this device.', { status: 503 });
      }
    })());
    return;
  }
  // Hashed assets never change: cache first, and keep anything new we fetch.
  event.respondWith((async () => {
    const hit = await caches.match(req);
    if (hit) return hit;
    const res = await fetch(req);
    if (res.ok && (url.pathname.startsWith('/assets/') || SHELL.includes(url.pathname))) {
      (await caches.open(CACHE)).put(req, res.clone());
    }
    return res;
  })());
});
