// An Aedes broker (MQTT 3.1.1) with a TCP and a WebSocket listener on free loopback ports and a
// username/password check. Prints {"event":"ready","tcp":port,"ws":port}, then one line per client event.
// Usage: node aedes-broker.js <username> <password>
'use strict';
const aedesFactory = require('aedes');
const net = require('net');
const http = require('http');
const { WebSocketServer, createWebSocketStream } = require('ws');

const [user, pass] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(Object.assign({ t: Date.now() }, o)) + '\n');

async function main() {
  const aedes = typeof aedesFactory.createBroker === 'function' ? await aedesFactory.createBroker() : aedesFactory();
  aedes.authenticate = (client, username, password, done) => {
    const ok = username === user && password && password.toString() === pass;
    out({ event: 'auth', client: client.id, ok });
    if (ok) { done(null, true); return; }
    const err = new Error('bad user name or password');
    err.returnCode = 4;
    done(err, null);
  };
  aedes.on('client', (c) => out({ event: 'client', client: c.id }));
  aedes.on('clientDisconnect', (c) => out({ event: 'clientDisconnect', client: c.id }));
  aedes.on('publish', (p, c) => { if (c === null && p.topic.startsWith('$SYS')) return; out({ event: 'publish', topic: p.topic, client: c ? c.id : null }); });

  const tcp = net.createServer(aedes.handle);
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  wss.on('connection', (ws, req) => aedes.handle(createWebSocketStream(ws), req));
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  out({ event: 'ready', tcp: tcp.address().port, ws: httpServer.address().port });
  process.on('SIGTERM', () => { tcp.close(); httpServer.close(); aedes.close(() => process.exit(0)); });
}
main().catch((e) => { out({ event: 'error', message: String(e && e.stack) }); process.exit(2); });
