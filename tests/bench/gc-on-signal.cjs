// Preloaded into every server the bench starts (node --expose-gc --require this): on SIGUSR2 the
// server runs a full garbage collection, so the per-connection and per-document memory figures count
// what is kept, not how much garbage happens to be waiting. With GC_REPORT_FILE set (the soak), it
// then writes there what the collection left: the JavaScript heap in use, memory held outside it for
// JavaScript objects (Buffers and the like), and the process's RSS. Nothing else changes.
'use strict';
const fs = require('node:fs');
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') global.gc();
  const file = process.env.GC_REPORT_FILE;
  if (file) {
    const m = process.memoryUsage();
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ heapUsed: m.heapUsed, external: m.external, rss: m.rss }));
    fs.renameSync(`${file}.tmp`, file); // whole once it is there
  }
});
