// Entry point: `npm start` runs this.
import { startServer } from './server.js';

// No top-level await: the bundle is CommonJS (scripts/bundle.ts).
startServer().then(
  (running) => {
    const stop = (): void => {
      running.ctx.log.info('shutting down');
      void running.close().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  },
  (err: unknown) => {
    console.error('Pamoja could not start:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
