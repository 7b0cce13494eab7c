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
    // One line an IT person can act on (a taken port, a bad setting); the stack with LOG_LEVEL=debug.
    console.error(`Pamoja could not start: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof Error && /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '')) console.error(err.stack);
    process.exit(1);
  },
);
