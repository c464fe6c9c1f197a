#!/usr/bin/env node
// NATS's own core pub/sub rate, the ceiling of Junction's cross-node path: one publisher
// connection publishes SIZE-byte messages on one subject as fast as the server takes them
// (a flush round trip every BATCH messages bounds what waits in between), one subscriber
// connection counts what arrives. Prints one JSON line: sent and received per second.
// Usage: node bench/cluster/nats-pubsub.mjs --server nats://127.0.0.1:4222 [--duration 5] [--warmup 1] [--size 64]
import { connect } from '@nats-io/transport-node';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: nats-pubsub.mjs --server URL [--duration S] [--warmup S] [--size BYTES] [--batch N]');
  process.exit(0);
}
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i === -1 ? def : args[i + 1];
};
const server = opt('--server', 'nats://127.0.0.1:4222');
const duration = Number(opt('--duration', '5'));
const warmup = Number(opt('--warmup', '1'));
const size = Number(opt('--size', '64'));
const batch = Number(opt('--batch', '2000'));
const subject = `bench.ceiling.${process.pid}`;

const sub = await connect({ servers: server, name: 'ceiling-sub' });
const pub = await connect({ servers: server, name: 'ceiling-pub' });
let received = 0;
sub.subscribe(subject, { callback: () => void received++ });
await sub.flush();
const payload = new Uint8Array(size);
let sent = 0;
let running = true;
const publishing = (async () => {
  while (running) {
    for (let i = 0; i < batch; i++) pub.publish(subject, payload);
    sent += batch;
    await pub.flush();
  }
})();
await new Promise((r) => setTimeout(r, warmup * 1000));
const sent0 = sent;
const received0 = received;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, duration * 1000));
const seconds = (performance.now() - t0) / 1000;
const result = { sentPerSecond: Math.round((sent - sent0) / seconds), receivedPerSecond: Math.round((received - received0) / seconds), size, seconds };
running = false;
await publishing;
await pub.close();
await sub.close();
console.log(JSON.stringify(result));
