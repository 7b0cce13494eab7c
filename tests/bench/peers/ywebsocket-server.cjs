// The reference y-websocket 2.x server, started the way its own bin/server.cjs does: no auth, no
// checks, documents in memory only (YPERSISTENCE unset). Env: PORT, HOST.
const http = require('node:http');
const WebSocket = require('ws');
const { setupWSConnection } = require('y-websocket/bin/utils');

const port = Number(process.env.PORT || 1234);
const host = process.env.HOST || '127.0.0.1';
const wss = new WebSocket.Server({ noServer: true });
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('okay');
});
wss.on('connection', setupWSConnection);
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(port, host, () => console.log(`y-websocket listening on ${host}:${port}`));
