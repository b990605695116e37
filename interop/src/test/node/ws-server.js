// A ws (Node) WebSocket server on a free loopback port, well-behaved or misbehaving on purpose.
// Usage: node ws-server.js <mode>
//   normal          echo every message; answer close frames and close TCP as ws does
//   no-close-reply  never answer a close frame (and never close TCP)
//   keep-tcp-open   answer the close frame but never close TCP afterwards (the proxy case)
//   close-with <code>  close every new session at once with the given code
// Prints {"event":"ready","port":p}, then one line per session event (open, message, close with code).
'use strict';
const { WebSocketServer } = require('ws');

const [mode, codeArg] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(Object.assign({ t: Date.now() }, o)) + '\n');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });

wss.on('listening', () => out({ event: 'ready', port: wss.address().port }));
wss.on('connection', (ws, req) => {
  const socket = ws._socket;
  out({ event: 'open', url: req.url, remotePort: socket.remotePort });
  socket.on('close', () => out({ event: 'tcp-closed', remotePort: socket.remotePort }));
  if (mode === 'no-close-reply') {
    // Take the socket away from ws: frames are read and ignored, nothing is ever answered.
    socket.removeAllListeners('data');
    socket.removeAllListeners('end');
    socket.on('data', (d) => out({ event: 'ignored-bytes', length: d.length }));
    socket.on('end', () => out({ event: 'fin-received' }));
    return;
  }
  if (mode === 'keep-tcp-open') {
    // ws answers the close frame, then ends and destroys the socket: forbid both.
    socket.end = function () { out({ event: 'end-suppressed' }); return socket; };
    socket.destroy = function () { out({ event: 'destroy-suppressed' }); return socket; };
    socket.setTimeout(0);
  }
  ws.on('message', (data, isBinary) => { out({ event: 'message', length: data.length }); ws.send(data, { binary: isBinary }); });
  ws.on('close', (code, reason) => out({ event: 'close', code, reason: reason.toString() }));
  if (mode === 'close-with') ws.close(Number(codeArg), 'closing as asked');
});
process.on('SIGTERM', () => process.exit(0));
