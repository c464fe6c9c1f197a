/**
 * Limits against real broker processes: connections per listener, connection rate per address,
 * accepts per second per listener,
 * memory (0x89), subscriptions per client, topic length, and the publish rate: reading pauses
 * (nothing lost, 3.1.1 stays connected) and a 5.0 client that keeps flooding gets DISCONNECT 0x97.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, connect, gather, rawClient, sleep, waitFor } from '../interop/harness.js';
import { PacketType, connectPacket, parseConnack, parseDisconnect, publishPacket } from '../interop/wire.js';
import { connectOutcome, subackCodes } from './helpers.js';

test('--max-connections: the connection over the limit is closed, the others carry on', async (t) => {
  const broker = await brokerFor(t, { args: ['--max-connections', '2'] });
  const a = await connect(t, broker.url);
  const b = await connect(t, broker.url);
  const raw = await rawClient(t, broker.port, 4);
  raw.send(connectPacket({ version: 4, clientId: 'third' }));
  const got = await raw.expectClose();
  assert.ok(!got.some((p) => p.type === PacketType.CONNACK), 'no CONNACK for the third');
  assert.ok(a.connected && b.connected);
});

test('--max-connection-rate: CONNECTs over the rate per address get 0x9F (5.0) / 3 (3.1.1), then recover', async (t) => {
  const broker = await brokerFor(t, { args: ['--max-connection-rate', '3'] });
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) codes.push(await connectOutcome(broker.url, { protocolVersion: 5 }));
  codes.push(await connectOutcome(broker.url, { protocolVersion: 5 }));
  codes.push(await connectOutcome(broker.url, { protocolVersion: 4 }));
  assert.deepEqual(codes, [0, 0, 0, 0x9f, 3]);
  await sleep(1100);
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 5 }), 0, 'a new second, a new allowance');
});

test('--max-accept-rate: a burst of MQTT clients above the rate all connect (queued, not refused) while an established client keeps working', async (t) => {
  const broker = await brokerFor(t, { args: ['--max-accept-rate', '20'] });
  const established = await connect(t, broker.url, { protocolVersion: 5 });
  await established.subscribeAsync('still/here', { qos: 1 });
  const start = Date.now();
  const codes = await Promise.all(Array.from({ length: 30 }, () => connectOutcome(broker.url, { protocolVersion: 5 })));
  const took = Date.now() - start;
  assert.deepEqual(codes, new Array(30).fill(0), 'every client got CONNACK 0x00');
  assert.ok(took >= 1000, `30 connections at 20/s cannot all be accepted within a second (took ${took} ms)`);
  const echoed = new Promise<string>((resolve) => established.once('message', (_t, p) => resolve(p.toString())));
  await established.publishAsync('still/here', 'yes', { qos: 1 });
  assert.equal(await echoed, 'yes');
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'accept rate above --max-accept-rate: listener pausing' && l['backlog'] === 'kept'), 5000, 'the log line');
});

test('--max-memory: above it new connections get 0x89 (5.0) / 3 (3.1.1), and the broker stays up', async (t) => {
  const broker = await brokerFor(t, { args: ['--max-memory', '1MiB'] });
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 5 }), 0x89);
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 4 }), 3);
  await waitFor(() => broker.logs.some((l) => l['msg'] === 'connection refused' && String(l['detail']).includes('server busy')), 5000, 'the log line');
});

test('publish rate, subscriptions per client, topic length', async (t) => {
  const broker = await brokerFor(t, { args: ['--max-publish-rate', '20', '--publish-quota-strikes', '2', '--max-subscriptions', '2', '--max-topic-length', '24', '--log-level', 'debug'] });

  await t.test('--max-subscriptions: the third filter gets 0x97 (5.0) / 0x80 (3.1.1); re-subscribing an existing one is fine', async (t) => {
    const c5 = await connect(t, broker.url, { protocolVersion: 5 });
    assert.deepEqual(await subackCodes(c5, ['s/1', 's/2', 's/3'], 0), [0, 0, 0x97]);
    assert.deepEqual(await subackCodes(c5, ['s/1'], 1), [1]);
    const c4 = await connect(t, broker.url, { protocolVersion: 4 });
    assert.deepEqual(await subackCodes(c4, ['s/1', 's/2', 's/3'], 0), [0, 0, 0x80]);
  });

  await t.test('--max-topic-length: longer topics are refused 0x90 on PUBLISH and 0x8F on SUBSCRIBE', async (t) => {
    const c = await connect(t, broker.url, { protocolVersion: 5 });
    const long = 'x'.repeat(25);
    assert.deepEqual(await subackCodes(c, [long], 0), [0x8f]);
    await assert.rejects(c.publishAsync(long, 'p', { qos: 1 }), (e: Error & { code?: number }) => e.code === 0x90);
    await c.publishAsync('x'.repeat(24), 'p', { qos: 1 });
  });

  await t.test('--max-publish-rate: reading pauses until the budget refills; nothing is lost; 3.1.1 stays connected', async (t) => {
    const sub = await connect(t, broker.url, { protocolVersion: 5 });
    assert.deepEqual(await subackCodes(sub, 'rate/#', 0), [0]);
    const arrivals: number[] = [];
    sub.on('message', () => arrivals.push(Date.now()));
    const pub = await connect(t, broker.url, { protocolVersion: 4 });
    const start = Date.now();
    // 60 messages at 100/s: three times the allowed rate.
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 10; j++) pub.publish('rate/x', String(i * 10 + j));
      await sleep(100);
    }
    // 20/s with a bucket of 10: the last of 60 can arrive no earlier than 2.5 s after the first.
    await gather(sub, 3500);
    const early = arrivals.filter((at) => at - start < 700).length;
    assert.ok(early <= 30, `at most the bucket (10) + 0.7 s at 20/s (14) + one batch in the first 700 ms, got ${early}`);
    assert.equal(arrivals.length, 60, 'every message arrives once reading resumes');
    assert.equal(pub.connected, true);
  });

  await t.test('a 5.0 client that keeps flooding gets DISCONNECT 0x97', async (t) => {
    const raw = await rawClient(t, broker.port, 5);
    raw.send(connectPacket({ version: 5, clientId: 'flooder' }));
    assert.equal(parseConnack(await raw.next(PacketType.CONNACK), 5).code, 0);
    const burst = Buffer.concat(Array.from({ length: 20 }, () => publishPacket({ version: 5, topic: 'flood', payload: 'x' })));
    const started = Date.now();
    let disconnect: number | null = null;
    while (disconnect === null && Date.now() - started < 8000) {
      raw.send(burst);
      for (const p of await raw.drain(50)) if (p.type === PacketType.DISCONNECT) disconnect = parseDisconnect(p).reason;
    }
    assert.equal(disconnect, 0x97, 'DISCONNECT with Quota Exceeded');
    await raw.expectClose();
    for (let i = 0; i < 50 && !broker.logs.some((l) => l['msg'] === 'client disconnected' && l['clientId'] === 'flooder'); i++) await sleep(20);
    const logged = broker.logs.find((l) => l['msg'] === 'client disconnected' && l['clientId'] === 'flooder');
    assert.equal(logged?.['reason'], 'quota-exceeded', 'the disconnect event names the publish quota');
  });
});
