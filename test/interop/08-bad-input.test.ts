/**
 * Bad input over raw sockets: each violation closes only the offending connection (5.0 with a
 * DISCONNECT reason first) while a well-behaved pair on the same broker loses nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, rawClient, startBroker, target, type Broker, type MqttClient } from './harness.js';
import { PacketType, describe, frame, parseDisconnect, publishPacket, str, type Version } from './wire.js';

let broker: Broker;
let steadyPub: MqttClient;
let steadySub: MqttClient;
let sent = 0;
const received: number[] = [];
let pumping = true;
let pump: Promise<void>;

before(async () => {
  broker = await startBroker({ args: ['--max-packet-size', '1024'] });
  steadySub = await connect(null, broker.url, { protocolVersion: 5 });
  steadyPub = await connect(null, broker.url, { protocolVersion: 4 });
  await steadySub.subscribeAsync('steady/t', { qos: 1 });
  steadySub.on('message', (_topic, payload) => received.push(Number(payload.toString())));
  pump = (async () => {
    while (pumping) {
      await steadyPub.publishAsync('steady/t', String(sent), { qos: 1 });
      sent++;
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
});

after(async () => {
  pumping = false;
  steadyPub?.end(true);
  steadySub?.end(true);
  await broker.dispose();
});

interface Case {
  name: string;
  versions: Version[];
  /** Acceptable 5.0 DISCONNECT reasons. */
  reasons: number[];
  bytes: (v: Version) => Buffer;
}

const cases: Case[] = [
  {
    name: 'malformed remaining length (5 bytes)',
    versions: [4, 5],
    reasons: [0x81],
    bytes: () => Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]),
  },
  {
    name: 'packet over --max-packet-size',
    versions: [4, 5],
    reasons: [0x95],
    bytes: (v) => publishPacket({ version: v, topic: 'bad/big', payload: Buffer.alloc(2000, 0x7a) }),
  },
  {
    name: 'invalid UTF-8 in the topic',
    versions: [4, 5],
    reasons: [0x81],
    bytes: (v) => publishPacket({ version: v, topic: Buffer.from([0x61, 0x2f, 0xff, 0xfe]), payload: 'x' }),
  },
  {
    name: 'U+0000 in the topic',
    versions: [4, 5],
    reasons: [0x81],
    bytes: (v) => publishPacket({ version: v, topic: Buffer.from('a/\u0000/b', 'utf8'), payload: 'x' }),
  },
  {
    name: '+ in a PUBLISH topic',
    versions: [4, 5],
    // The spec names no single code: Topic Name invalid or Protocol Error (mosquitto) both fit.
    reasons: [0x90, 0x82],
    bytes: (v) => publishPacket({ version: v, topic: 'bad/+/topic', payload: 'x' }),
  },
  {
    name: '# in a PUBLISH topic',
    versions: [4, 5],
    reasons: [0x90, 0x82],
    bytes: (v) => publishPacket({ version: v, topic: 'bad/#', payload: 'x' }),
  },
  {
    name: 'QoS 3',
    versions: [4, 5],
    reasons: [0x81],
    bytes: (v) => {
      const p = publishPacket({ version: v, topic: 'bad/qos', payload: 'x', qos: 2, packetId: 5 });
      p[0] = 0x36;
      return p;
    },
  },
  {
    name: 'reserved flag bits on PUBREL',
    versions: [4, 5],
    reasons: [0x81],
    bytes: () => Buffer.from([0x60, 0x02, 0x00, 0x01]),
  },
  {
    name: 'reserved flag bits on SUBSCRIBE',
    versions: [4, 5],
    reasons: [0x81],
    bytes: (v) => frame(0x80, Buffer.concat([Buffer.from([0x00, 0x01]), v === 5 ? Buffer.from([0]) : Buffer.alloc(0), str('bad/flags'), Buffer.from([0])])),
  },
  {
    name: 'unknown packet type 0',
    versions: [4],
    reasons: [],
    bytes: () => Buffer.from([0x00, 0x00]),
  },
  {
    name: 'unknown packet type 15',
    versions: [4],
    reasons: [],
    bytes: () => Buffer.from([0xf0, 0x00]),
  },
  {
    name: 'packet id 0 at QoS 1',
    versions: [4, 5],
    reasons: [0x81, 0x82],
    bytes: (v) => publishPacket({ version: v, topic: 'bad/pid', payload: 'x', qos: 1, packetId: 0 }),
  },
  {
    name: 'SUBSCRIBE with no filters',
    versions: [4, 5],
    reasons: [0x81, 0x82],
    bytes: (v) => frame(0x82, Buffer.concat([Buffer.from([0x00, 0x02]), v === 5 ? Buffer.from([0]) : Buffer.alloc(0)])),
  },
];

for (const c of cases) {
  for (const version of c.versions) {
    test(`MQTT ${version}: ${c.name} closes only that connection`, async (t) => {
      const before = received.length;
      const raw = await rawClient(t, broker.port, version);
      await raw.handshake();
      raw.send(c.bytes(version));
      const rest = await raw.expectClose();
      const d = rest.find((p) => p.type === PacketType.DISCONNECT);
      // mosquitto 2.0.11 closes some of these without a DISCONNECT (docs/CONFORMANCE.md).
      if (version === 5 && (d !== undefined || target !== 'mosquitto')) {
        assert.ok(d, `DISCONNECT before close; got ${rest.map(describe).join(', ') || 'nothing'}`);
        const reason = parseDisconnect(d).reason;
        assert.ok(c.reasons.includes(reason), `DISCONNECT reason 0x${reason.toString(16)}, expected ${c.reasons.map((r) => '0x' + r.toString(16)).join(' or ')}`);
      }
      // The pump publishes every few ms; on a loaded machine the next one may take a while to arrive.
      const until = Date.now() + 3000;
      while (received.length <= before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.ok(received.length > before, 'the well-behaved subscriber kept receiving meanwhile');
      assert.equal(steadySub.connected && steadyPub.connected, true, 'the well-behaved clients are still connected');
    });
  }
}

test('the well-behaved pair lost nothing and kept order throughout', async () => {
  pumping = false;
  await pump;
  const until = Date.now() + 3000;
  while (received.length < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(sent > 20, `the publisher kept going (${sent} sent)`);
  const expected = Array.from({ length: sent }, (_, i) => i);
  const firstOff = received.findIndex((v, i) => v !== i);
  assert.equal(received.length, sent, `received ${received.length} of ${sent}`);
  assert.deepEqual(received, expected, `first difference at index ${firstOff}`);
});
