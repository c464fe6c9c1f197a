/**
 * Bulk retained delivery against a real broker process: a `#` subscription over 100,000 retained
 * messages arrives complete and exactly once while other clients keep being served; live
 * messages during the delivery never precede an older retained value of their topic; QoS 1
 * retained deliveries go through the session window without overflowing its queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brokerFor, waitFor, type LogLine } from '../interop/harness.js';
import { publishPacket, PINGREQ } from '../interop/wire.js';
import { seedRetained, seededTopic } from '../../bench/lib/retained-seed.js';
import { StreamClient } from '../../bench/lib/stream-client.js';

const COUNT = 100_000;

function bulkLine(logs: LogLine[], clientId: string): LogLine | undefined {
  return logs.find((l) => l['msg'] === 'retained bulk delivery finished' && l['clientId'] === clientId);
}

test('a # subscriber receives each of 100,000 retained messages exactly once while another client is served', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-bulk-'));
  await seedRetained(dataDir, COUNT);
  const broker = await brokerFor(t, { dataDir });
  const port = broker.port;
  const pinger = await StreamClient.connect(port, 'pinger');
  const sub = await StreamClient.connect(port, 'bulk-sub');
  t.after(() => {
    pinger.close();
    sub.close();
  });

  const seen = new Map<string, number>();
  let notRetained = 0;
  let doneAt = 0;
  sub.onPublish = (p) => {
    seen.set(p.topic, (seen.get(p.topic) ?? 0) + 1);
    if (!p.retain) notRetained++;
    if (sub.publishes === COUNT) doneAt = performance.now();
  };
  await sub.subscribe('#', 0);
  // Pings while the delivery runs: the broker must answer them in between batches.
  const rtts: number[] = [];
  while (doneAt === 0 && rtts.length < 100_000) {
    const rtt = await pinger.ping();
    if (doneAt === 0) rtts.push(rtt);
  }
  await waitFor(() => bulkLine(broker.logs, 'bulk-sub') !== undefined, 10_000, 'the bulk delivery log line');

  assert.equal(sub.publishes, COUNT, 'PUBLISH packets received');
  assert.equal(seen.size, COUNT, 'distinct topics received');
  for (let i = 0; i < COUNT; i += 997) assert.equal(seen.get(seededTopic(i)), 1, `${seededTopic(i)} received once`);
  assert.equal(notRetained, 0, 'every message carries the retain flag');
  const line = bulkLine(broker.logs, 'bulk-sub')!;
  assert.equal(line['path'], 'worker');
  assert.equal(line['delivered'], COUNT);
  assert.equal(typeof line['eventLoopDelayP99Ms'], 'number');
  // The pinger got answers while the subscriber was still receiving: the loop was not held.
  assert.ok(rtts.length >= 3, `only ${rtts.length} PINGREQ round trips completed during the delivery`);
  // Liveness, not a performance claim (bench/scenarios/retained-wildcard.ts measures): no round trip
  // waited for the whole delivery.
  assert.ok(Math.max(...rtts) < 2000, `slowest PINGREQ round trip ${Math.max(...rtts).toFixed(0)} ms`);
});

test('live messages during a bulk delivery are never followed by an older retained value of their topic', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-bulk-'));
  await seedRetained(dataDir, COUNT);
  const broker = await brokerFor(t, { dataDir });
  const port = broker.port;
  const publisher = await StreamClient.connect(port, 'live-pub');
  const sub = await StreamClient.connect(port, 'order-sub');
  t.after(() => {
    publisher.close();
    sub.close();
  });

  // Live updates to topics spread over the whole key range, half of them retained.
  const touched = new Set<string>();
  for (let i = 0; i < COUNT; i += 500) touched.add(seededTopic(i));
  const state = new Map<string, 'retained' | 'live'>();
  const violations: string[] = [];
  let retainedCount = 0;
  let liveCount = 0;
  sub.onPublish = (p) => {
    if (p.retain) {
      retainedCount++;
      const before = state.get(p.topic);
      if (before !== undefined) violations.push(`${p.topic}: retained after ${before}`);
      state.set(p.topic, 'retained');
    } else {
      liveCount++;
      assert.equal(p.payload.toString(), 'live');
      state.set(p.topic, 'live');
    }
  };
  await sub.subscribe('fleet/#', 0);
  let n = 0;
  const packets = [...touched].map((topic) => publishPacket({ topic, payload: 'live', retain: n++ % 2 === 0 }));
  publisher.write(Buffer.concat([...packets, PINGREQ]));
  await waitFor(() => bulkLine(broker.logs, 'order-sub') !== undefined, 30_000, 'the bulk delivery log line');
  await waitFor(() => liveCount === touched.size, 5000, 'every live message');

  assert.deepEqual(violations, []);
  const line = bulkLine(broker.logs, 'order-sub')!;
  // Every untouched topic arrived retained; a touched one only if its retained value came first.
  const skipped = Number(line['skippedLive']);
  assert.equal(retainedCount + skipped, COUNT, 'retained delivered + skipped for a live value = all');
  assert.equal(retainedCount, Number(line['delivered']));
  for (let i = 1; i < COUNT; i += 1013) {
    if (!touched.has(seededTopic(i))) assert.equal(state.get(seededTopic(i)), 'retained', seededTopic(i));
  }
});

test('QoS 1 retained messages over the memory store go through the window: none dropped at the default queue limit', async (t) => {
  const total = 20_000;
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--retained-bulk-threshold', '5000', '--receive-maximum', '65535'] });
  const port = broker.port;
  const publisher = await StreamClient.connect(port, 'seed-pub');
  const sub = await StreamClient.connect(port, 'qos1-sub');
  t.after(() => {
    publisher.close();
    sub.close();
  });
  const packets: Buffer[] = [];
  for (let i = 0; i < total; i++) packets.push(publishPacket({ topic: seededTopic(i), payload: `p${i}`, qos: 1, retain: true, packetId: (i % 65535) + 1 }));
  publisher.write(Buffer.concat(packets));
  await publisher.ping(); // answered after every PUBLISH before it was handled

  const seen = new Set<string>();
  let qos1 = 0;
  sub.onPublish = (p) => {
    seen.add(p.topic);
    if (p.qos === 1) qos1++;
  };
  await sub.subscribe('fleet/+/+/status', 1);
  await waitFor(() => bulkLine(broker.logs, 'qos1-sub') !== undefined, 30_000, 'the bulk delivery log line');
  await waitFor(() => sub.publishes === total, 5000, `${total} PUBLISH packets (got ${sub.publishes})`);
  assert.equal(seen.size, total);
  assert.equal(qos1, total, 'delivered at QoS 1');
  const line = bulkLine(broker.logs, 'qos1-sub')!;
  assert.equal(line['path'], 'main');
  assert.equal(line['delivered'], total);
  assert.ok(!broker.logs.some((l) => l['msg'] === 'session queue full, message dropped' && l['clientId'] === 'qos1-sub'), 'no queue overflow');
});

test('below --retained-bulk-threshold the retained set is delivered synchronously, before any later packet', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-bulk-'));
  await seedRetained(dataDir, 3000);
  const broker = await brokerFor(t, { dataDir, args: ['--retained-bulk-threshold', '5000'] });
  const port = broker.port;
  const sub = await StreamClient.connect(port, 'small-sub');
  t.after(() => sub.close());
  await sub.subscribe('#', 0);
  // SUBACK, then every retained message in the same turn, then the PINGRESP.
  await sub.ping();
  assert.equal(sub.publishes, 3000);
  assert.equal(bulkLine(broker.logs, 'small-sub'), undefined);
});
