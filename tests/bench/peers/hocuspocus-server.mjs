// Hocuspocus 3 with its SQLite extension (default debounce), as its docs start it. Env: PORT, HOST, DB_FILE.
import { Server } from '@hocuspocus/server';
import { SQLite } from '@hocuspocus/extension-sqlite';

const server = new Server({
  port: Number(process.env.PORT || 1234),
  address: process.env.HOST || '127.0.0.1',
  quiet: true,
  extensions: [new SQLite({ database: process.env.DB_FILE || 'hocuspocus.sqlite' })],
});
await server.listen();
console.log(`hocuspocus listening on ${server.configuration.address}:${server.configuration.port}`);
