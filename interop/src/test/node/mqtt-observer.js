// An independent MQTT.js client: subscribes to topics and prints every message as one JSON line.
// Usage: node mqtt-observer.js <url> <topic>[,<topic>...] [--username U] [--password P] [--v5] [--qos N]
'use strict';
const mqtt = require('mqtt');

const args = process.argv.slice(2);
const url = args[0];
const topics = (args[1] || '#').split(',');
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const out = (o) => process.stdout.write(JSON.stringify(Object.assign({ t: Date.now() }, o)) + '\n');

const client = mqtt.connect(url, {
  clientId: 'observer-' + process.pid,
  username: opt('--username'),
  password: opt('--password'),
  protocolVersion: args.includes('--v5') ? 5 : 4,
  reconnectPeriod: 200,
  clean: true,
});
client.on('connect', () => {
  client.subscribe(topics, { qos: Number(opt('--qos', '1')) }, (err) => {
    if (err) { out({ event: 'error', message: String(err) }); process.exit(2); }
    out({ event: 'ready' });
  });
});
client.on('message', (topic, payload, packet) => {
  out({ event: 'message', topic, payload: payload.toString('utf8'), qos: packet.qos, retain: packet.retain });
});
client.on('error', (e) => out({ event: 'error', message: String(e && e.message) }));
client.on('close', () => out({ event: 'close' }));
process.on('SIGTERM', () => client.end(true, () => process.exit(0)));
