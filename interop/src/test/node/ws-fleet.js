// A fleet of ws (Node) clients against a WebSocket server: records every close code and every
// OneBot meta event received, reconnects after 1012 when asked, prints a summary JSON line.
// Usage: node ws-fleet.js <url> <clients> <timeoutMs> [--reconnect-on-1012]
'use strict';
const WebSocket = require('ws');

const [url, nArg, timeoutArg] = process.argv.slice(2);
const reconnect = process.argv.includes('--reconnect-on-1012');
const out = (o) => process.stdout.write(JSON.stringify(Object.assign({ t: Date.now() }, o)) + '\n');
const n = Number(nArg);
const closes = {};
const lifecycleBeforeClose = { disable: 0, enable: 0, connect: 0 };
let opened = 0;
let reopened = 0;
let closed = 0;

function connect(i, again) {
  const ws = new WebSocket(url);
  let sawDisable = false;
  ws.on('open', () => {
    if (again) { reopened++; } else { opened++; }
    if (opened === n && !again) out({ event: 'all-open', opened });
    if (again && reopened === n) out({ event: 'all-reopened', reopened });
  });
  ws.on('message', (data) => {
    try {
      const m = JSON.parse(data.toString());
      if (m.post_type === 'meta_event' && m.meta_event_type === 'lifecycle') {
        if (m.sub_type === 'disable') sawDisable = true;
        lifecycleBeforeClose[m.sub_type] = (lifecycleBeforeClose[m.sub_type] || 0) + 1;
      }
    } catch (e) { /* not JSON: an application message */ }
  });
  ws.on('close', (code) => {
    closes[code] = (closes[code] || 0) + 1;
    closed++;
    out({ event: 'closed', client: i, code, sawDisable });
    if (reconnect && code === 1012 && !again) setTimeout(() => connect(i, true), 50 + Math.random() * 200);
  });
  ws.on('error', () => {});
}
for (let i = 0; i < n; i++) connect(i, false);
setTimeout(() => { out({ event: 'summary', opened, reopened, closed, closes, lifecycle: lifecycleBeforeClose }); process.exit(0); }, Number(timeoutArg));
process.on('SIGTERM', () => { out({ event: 'summary', opened, reopened, closed, closes, lifecycle: lifecycleBeforeClose }); process.exit(0); });
