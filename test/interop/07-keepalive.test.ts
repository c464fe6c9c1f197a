/** Keep-alive: silent clients are closed after 1.5 x keep-alive (will fires); PINGREQ keeps a client alive. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, connect, junctionOnly, rawClient, startBroker, type Broker } from './harness.js';
import { PINGREQ, PacketType, connectPacket, parseConnack } from './wire.js';

let broker: Broker;
before(async () => {
  broker = await startBroker();
});
after(() => broker.dispose());

for (const version of [4, 5] as const) {
  test(`MQTT ${version}: a silent client with keep-alive 1 is closed after about 1.5 s and its will fires`, async (t) => {
    if (junctionOnly(t, 'mosquitto 2.0.11 checks keep-alives every few seconds, past 1.5 x keep-alive (docs/CONFORMANCE.md)')) return;
    const topic = `ka/will/v${version}`;
    const watcher = await connect(t, broker.url, { protocolVersion: 5 });
    await watcher.subscribeAsync(topic, { qos: 1 });
    const will = collect(watcher, 1, 5000, 'will of the timed-out client');
    const raw = await rawClient(t, broker.port, version);
    raw.send(connectPacket({ version, clientId: `silent-${version}-${process.pid}`, keepalive: 1, will: { topic, payload: 'timed-out', qos: 1 } }));
    assert.equal(parseConnack(await raw.next(PacketType.CONNACK), version).code, 0);
    const started = Date.now();
    await raw.expectClose(4000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1000, `closed after ${elapsed} ms: too early for keep-alive 1 s (1.5 s allowed)`);
    assert.ok(elapsed <= 2800, `closed after ${elapsed} ms, expected about 1500 ms`);
    assert.equal((await will)[0]!.payload.toString(), 'timed-out');
  });
}

test('PINGREQ is answered with PINGRESP', async (t) => {
  for (const version of [4, 5] as const) {
    const raw = await rawClient(t, broker.port, version);
    await raw.handshake({ keepalive: 30 });
    raw.send(PINGREQ);
    const p = await raw.next(PacketType.PINGRESP);
    assert.equal(p.body.length, 0, 'PINGRESP has no body');
  }
});

test('a client sending PINGREQ within its keep-alive is not closed', async (t) => {
  const raw = await rawClient(t, broker.port, 4);
  await raw.handshake({ keepalive: 1 });
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 600));
    raw.send(PINGREQ);
    await raw.next(PacketType.PINGRESP, 1000);
  }
  assert.equal(raw.closed, false, 'still connected after 3.6 s of pings with keep-alive 1 s');
});
