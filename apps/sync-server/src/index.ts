// The sync server as a library, for tests and tools.
export { startServer, createContext, buildApp, type RunningServer } from './server.js';
export { loadConfig, type Config } from './config.js';
