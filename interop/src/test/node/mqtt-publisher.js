// An independent MQTT.js publisher: publishes <count> QoS 1 messages "<prefix>-<n>" every <intervalMs>,
// reconnecting through broker restarts, and prints each acknowledgement as a JSON line.
// Usage: node mqtt-publisher.js <url> <topic> <count> <intervalMs> <prefix> [--username U] [--password P]
'use strict';
const mqtt = require('mqtt');

const [url, topic, countArg, intervalArg, prefix] = process.argv.slice(2);
const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const out = (o) => process.stdout.write(JSON.stringify(Object.assign({ t: Date.now() }, o)) + '\n');
const count = Number(countArg);
let sent = 0;
let acked = 0;

const client = mqtt.connect(url, {
  clientId: 'publisher-' + process.pid, username: opt('--username'), password: opt('--password'),
  reconnectPeriod: 100, clean: false, queueQoSZero: false,
});
client.on('connect', () => out({ event: 'connect' }));
client.on('error', (e) => out({ event: 'error', message: String(e && e.message) }));
const timer = setInterval(() => {
  if (sent >= count) { clearInterval(timer); return; }
  const n = sent++;
  client.publish(topic, prefix + '-' + n, { qos: 1 }, (err) => {
    if (err) { out({ event: 'nack', n, message: String(err.message) }); return; }
    acked++;
    out({ event: 'acked', n });
    if (acked === count) { out({ event: 'done', acked }); client.end(false, () => process.exit(0)); }
  });
}, Number(intervalArg));
process.on('SIGTERM', () => client.end(true, () => process.exit(0)));
