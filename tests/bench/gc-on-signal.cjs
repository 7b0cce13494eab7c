// Preloaded into every server the bench starts (node --expose-gc --require this): on SIGUSR2 the
// server runs a full garbage collection, so the per-connection and per-document memory figures count
// what is kept, not how much garbage happens to be waiting. Nothing else changes.
'use strict';
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
});
