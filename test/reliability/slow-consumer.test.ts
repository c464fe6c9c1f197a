/**
 * Slow and dead consumers: a subscriber that stops reading while a publisher floods it must
 * not grow the broker's memory past its caps (--max-queued-messages, --max-queued-bytes for
 * QoS 1, --max-socket-buffer for QoS 0), overflow is counted and logged, and a healthy
 * subscriber on the same topics receives every QoS 1 message. Latency effects: bench/scenarios/flood.ts.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import { test } from 'node:test';
import { brokerFor, connect, sleep, waitFor, type Broker, type TestContext } from '../interop/harness.js';
import { connectPacket, publishPacket, subscribePacket } from '../interop/wire.js';
import { mib, openSocket, pidOf, rssOf } from './helpers.js';

const PAYLOAD = 4096;
const QOS0_MESSAGES = Number(process.env['JUNCTION_FLOOD_QOS0'] ?? 40_000); // 160 MiB
const QOS1_MESSAGES = Number(process.env['JUNCTION_FLOOD_QOS1'] ?? 4_000); // 16 MiB
/** RSS growth allowed: the caps (a few hundred KiB per session) plus garbage and buffers in flight. */
const RSS_GROWTH_LIMIT = 96 * 1048576;

/** A subscriber that subscribes and then never reads again. */
async function deadSubscriber(t: TestContext, broker: Broker): Promise<net.Socket> {
  const s = await openSocket(broker.port);
  t.after(() => s.destroy());
  s.write(connectPacket({ clientId: 'dead-consumer', clean: true }));
  s.write(
    subscribePacket(1, [
      { filter: 'flood/q0', options: 0 },
      { filter: 'flood/q1', options: 1 },
    ]),
  );
  await sleep(300);
  // Stop reading: the kernel buffers fill, then the broker's writes back up.
  s.pause();
  return s;
}

/** Writes `count` copies of `packet`, honouring backpressure. */
async function writeMany(s: net.Socket, packet: Buffer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (!s.write(packet)) await new Promise((resolve) => s.once('drain', resolve));
  }
}

test('a subscriber that stops reading keeps the broker within its queue and socket-buffer caps; a healthy one loses nothing', async (t) => {
  const broker = await brokerFor(t, {
    args: ['--max-queued-messages', '100', '--max-queued-bytes', '256KiB', '--max-socket-buffer', '64KiB', '--max-inflight', '16'],
  });
  const pid = pidOf(broker);
  await deadSubscriber(t, broker);
  const healthy = await connect(t, broker.url, { clientId: 'healthy-consumer' });
  let healthyQ1 = 0;
  healthy.on('message', (topic) => {
    if (topic === 'flood/q1') healthyQ1++;
  });
  await healthy.subscribeAsync('flood/q1', { qos: 1 });
  const before = rssOf(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  t.after(() => clearInterval(sampler));

  // QoS 0 flood over a raw socket, as fast as the broker reads it.
  const pub0 = await openSocket(broker.port);
  t.after(() => pub0.destroy());
  pub0.write(connectPacket({ clientId: 'flood-q0' }));
  pub0.resume();
  await writeMany(pub0, publishPacket({ topic: 'flood/q0', payload: Buffer.alloc(PAYLOAD, 0x30) }), QOS0_MESSAGES);

  // QoS 1 flood: acknowledged publishes, 32 at a time, paced by the healthy subscriber so its
  // own queue (same caps) never overflows: only the dead one may drop.
  const pub1 = await connect(t, broker.url, { clientId: 'flood-q1' });
  const payload = Buffer.alloc(PAYLOAD, 0x31);
  for (let i = 0; i < QOS1_MESSAGES; i += 32) {
    await Promise.all(Array.from({ length: Math.min(32, QOS1_MESSAGES - i) }, () => pub1.publishAsync('flood/q1', payload, { qos: 1 })));
    await waitFor(() => healthyQ1 >= i, 10_000, `the healthy subscriber to receive message ${i} of ${QOS1_MESSAGES} (has ${healthyQ1}): the dead consumer is holding it up`);
  }
  await waitFor(() => healthyQ1 >= QOS1_MESSAGES, 20_000, `the healthy subscriber to receive all ${QOS1_MESSAGES} QoS 1 messages (has ${healthyQ1})`);
  clearInterval(sampler);
  peak = Math.max(peak, rssOf(pid));

  assert.equal(broker.process.exitCode, null, 'the broker is still running');
  assert.equal(healthyQ1, QOS1_MESSAGES, `the healthy subscriber got ${healthyQ1} of ${QOS1_MESSAGES} QoS 1 messages`);
  const flooded = QOS0_MESSAGES * PAYLOAD + QOS1_MESSAGES * PAYLOAD;
  assert.ok(
    peak - before < RSS_GROWTH_LIMIT,
    `broker RSS grew by ${mib(peak - before)} (from ${mib(before)} to ${mib(peak)}) while ${mib(flooded)} was published to a subscriber that stopped reading: the caps do not hold (limit ${mib(RSS_GROWTH_LIMIT)})`,
  );
  const drops = broker.logs.filter((l) => l['msg'] === 'session queue full, message dropped' && l['clientId'] === 'dead-consumer');
  assert.ok(drops.length > 0, 'the QoS 1 overflow for the dead consumer is logged as "session queue full, message dropped"');
  t.diagnostic(`RSS ${mib(before)} -> peak ${mib(peak)} while ${mib(flooded)} flooded a stopped subscriber`);
});
