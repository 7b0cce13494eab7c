// Entry point: `npm start` runs this.
import { startServer } from './server.js';

const running = await startServer();
const stop = (): void => {
  running.ctx.log.info('shutting down');
  void running.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
