/**
 * The MQTT connection driven over an in-memory Link: framing across arbitrary chunk
 * boundaries, pipelined packets, the CONNECT gate and ordered acknowledgements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MqttConnection } from '../../../src/protocols/mqtt/connection.js';
import type { MqttConfig } from '../../../src/protocols/mqtt/protocol.js';
import type { GatewayContext } from '../../../src/gateway/context.js';
import type { EnhancedAuthMethod } from '../../../src/core/auth.js';
import { encodeAuth, encodeConnect, encodePublish, encodeSubscribe, decodeFrame } from '../../../src/protocols/mqtt/codec/index.js';
import type { Packet, ProtocolVersion } from '../../../src/protocols/mqtt/codec/packets.js';
import { scanFrames } from '../../../src/protocols/mqtt/codec/scanner.js';
import { MemoryLink, memoryKit } from '../../gateway/memory-kit.js';

/** A memory link that decodes what was written as MQTT packets. */
class MqttLink extends MemoryLink {
  /** Every packet written so far, decoded. */
  packets(version: ProtocolVersion): Packet[] {
    const all = Buffer.concat(this.out);
    const result: Packet[] = [];
    let pos = 0;
    while (pos < all.length) {
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      for (;;) {
        const b = all[i++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) break;
      }
      result.push(decodeFrame(all.subarray(pos, i + len), version));
      pos = i + len;
    }
    return result;
  }
}

const CONFIG: MqttConfig = { maxPacketSize: 1 << 20, receiveMaximum: 8, topicAliasMaximum: 4, maxKeepalive: 60, maximumQos: 2, connectTimeoutMs: 5000, scan: scanFrames };

async function context(methods: ReadonlyMap<string, EnhancedAuthMethod> = new Map()): Promise<GatewayContext> {
  return (await memoryKit({ methods })).kit;
}

function session(version: ProtocolVersion): Buffer {
  return Buffer.concat([
    encodeConnect({ protocolVersion: version, cleanStart: true, keepAlive: 30, clientId: 'c1' }),
    encodeSubscribe(version, { packetId: 1, subscriptions: [{ filter: 'a/+', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }),
    encodePublish(version, { topic: 'a/b', payload: Buffer.from('one'), qos: 1, retain: false, dup: false, packetId: 2 }),
    encodePublish(version, { topic: 'a/c', payload: Buffer.from('two'), qos: 0, retain: false, dup: false, packetId: 0 }),
  ]);
}

function types(packets: Packet[]): number[] {
  return packets.map((p) => p.type);
}

for (const version of [4, 5] as const) {
  test(`v${version}: pipelined CONNECT, SUBSCRIBE and PUBLISH in one chunk are all handled in order`, async () => {
    const ctx = await context();
    const link = new MqttLink();
    const conn = new MqttConnection(link, ctx, CONFIG);
    conn.onData(session(version));
    // CONNACK, SUBACK, the QoS 1 echo (own subscription), PUBACK, the QoS 0 echo
    assert.deepEqual(types(link.packets(version)), [2, 9, 3, 4, 3]);
  });

  test(`v${version}: the same bytes split at every position give the same answers`, async () => {
    const bytes = session(version);
    for (let cut = 1; cut < bytes.length; cut++) {
      const ctx = await context();
      const link = new MqttLink();
      const conn = new MqttConnection(link, ctx, CONFIG);
      conn.onData(bytes.subarray(0, cut));
      conn.onData(bytes.subarray(cut));
      assert.deepEqual(types(link.packets(version)), [2, 9, 3, 4, 3], `split at ${cut}`);
    }
  });
}

test('a packet before CONNECT closes the connection without an answer', async () => {
  const ctx = await context();
  const link = new MqttLink();
  const conn = new MqttConnection(link, ctx, CONFIG);
  conn.onData(encodePublish(4, { topic: 'a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, packetId: 0 }));
  assert.equal(link.closed, true);
  assert.equal(link.out.length, 0);
});

test('exceeding our Receive Maximum ends a 5.0 connection with DISCONNECT 0x93', async () => {
  const ctx = await context();
  const link = new MqttLink();
  const conn = new MqttConnection(link, ctx, CONFIG);
  // Hold acks back by making every publish wait for a (never-run) commit.
  conn.pendingCommitAcks = 1_000_000;
  const parts = [encodeConnect({ protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: 'flood' })];
  for (let i = 1; i <= 9; i++) parts.push(encodePublish(5, { topic: 't', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: i }));
  conn.onData(Buffer.concat(parts));
  const packets = link.packets(5);
  const last = packets[packets.length - 1]!;
  assert.equal(last.type, 14);
  assert.equal((last as { reasonCode: number }).reasonCode, 0x93);
  assert.equal(link.closed, true);
});

test('enhanced authentication: AUTH 0x18 challenge, client answer, then CONNACK success', async () => {
  const _ctx = await context();
  const challenge = {
    name: 'TEST-CHALLENGE',
    start: () => ({ outcome: 'continue' as const, data: Buffer.from('nonce'), state: 'nonce' }),
    continue: (_info: unknown, data: Buffer | null, state: unknown) =>
      data !== null && data.toString() === `${String(state)}:secret` ? { outcome: 'success' as const } : { outcome: 'fail' as const },
  };
  const withMethod = await context(new Map([[challenge.name, challenge]]));
  for (const [answer, expected] of [
    ['nonce:secret', 0x00],
    ['nonce:wrong', 0x87],
  ] as const) {
    const link = new MqttLink();
    const conn = new MqttConnection(link, withMethod, CONFIG);
    conn.onData(encodeConnect({ protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: 'ea', properties: { authenticationMethod: 'TEST-CHALLENGE' } }));
    const first = link.packets(5);
    assert.equal(first.length, 1);
    assert.equal(first[0]!.type, 15);
    assert.equal((first[0] as { reasonCode: number }).reasonCode, 0x18);
    conn.onData(encodeAuth(0x18, { authenticationMethod: 'TEST-CHALLENGE', authenticationData: Buffer.from(answer) }));
    const packets = link.packets(5);
    assert.equal(packets[1]!.type, 2);
    assert.equal((packets[1] as { reasonCode: number }).reasonCode, expected);
  }
});

test('an unknown Authentication Method is refused with CONNACK 0x8C', async () => {
  const ctx = await context();
  const link = new MqttLink();
  const conn = new MqttConnection(link, ctx, CONFIG);
  conn.onData(encodeConnect({ protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: 'x', properties: { authenticationMethod: 'SCRAM-SHA-1' } }));
  const packets = link.packets(5);
  assert.equal(packets[0]!.type, 2);
  assert.equal((packets[0] as { reasonCode: number }).reasonCode, 0x8c);
  assert.equal(link.closed, true);
});

test('a refusing CONNACK drops its Reason String to fit the client Maximum Packet Size, and is not sent when it cannot fit [MQTT-3.2.2-19]', async () => {
  for (const [maximumPacketSize, expected] of [
    [6, [0x8c]],
    [4, []],
  ] as const) {
    const link = new MqttLink();
    const conn = new MqttConnection(link, await context(), CONFIG);
    conn.onData(encodeConnect({ protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: 'x', properties: { maximumPacketSize, authenticationMethod: 'SCRAM-SHA-1' } }));
    const packets = link.packets(5) as Array<{ type: number; reasonCode: number; properties: { reasonString?: string } }>;
    assert.deepEqual(
      packets.map((p) => p.reasonCode),
      expected,
      `Maximum Packet Size ${maximumPacketSize}`,
    );
    assert.ok(
      packets.every((p) => p.properties.reasonString === undefined),
      'no Reason String',
    );
    assert.ok(
      link.out.every((b) => b.length <= maximumPacketSize),
      `nothing over ${maximumPacketSize} bytes was written`,
    );
    assert.equal(link.closed, true);
  }
});

test('a chunk of many PUBLISHes is handled over several turns, in order, none lost', async () => {
  const ctx = await context();
  const link = new MqttLink();
  const conn = new MqttConnection(link, ctx, CONFIG);
  conn.onData(
    Buffer.concat([
      encodeConnect({ protocolVersion: 4, cleanStart: true, keepAlive: 30, clientId: 'flood' }),
      encodeSubscribe(4, { packetId: 1, subscriptions: [{ filter: 'f', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }),
    ]),
  );
  const parts: Buffer[] = [];
  for (let i = 0; i < 700; i++) parts.push(encodePublish(4, { topic: 'f', payload: Buffer.from(String(i)), qos: 0, retain: false, dup: false, packetId: 0 }));
  conn.onData(Buffer.concat(parts));
  const echoes = (): string[] =>
    link
      .packets(4)
      .filter((p) => p.type === 3)
      .map((p) => (p as { payload: Buffer }).payload.toString());
  const firstTurn = echoes().length;
  assert.ok(firstTurn > 0 && firstTurn < 700, `the first turn handled part of the chunk (${firstTurn})`);
  for (let i = 0; i < 10 && echoes().length < 700; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    echoes(),
    parts.map((_, i) => String(i)),
  );
});

test('two clients flooding at once take turns: both progress before either finishes, each in order', async () => {
  const ctx = await context();
  const flooders = ['a', 'b'].map((id) => {
    const link = new MqttLink();
    const conn = new MqttConnection(link, ctx, CONFIG);
    conn.onData(
      Buffer.concat([
        encodeConnect({ protocolVersion: 4, cleanStart: true, keepAlive: 30, clientId: `flood-${id}` }),
        encodeSubscribe(4, { packetId: 1, subscriptions: [{ filter: id, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }),
      ]),
    );
    return { id, link, conn };
  });
  const chunk = (id: string): Buffer =>
    Buffer.concat(Array.from({ length: 2000 }, (_, i) => encodePublish(4, { topic: id, payload: Buffer.from(String(i)), qos: 0, retain: false, dup: false, packetId: 0 })));
  for (const f of flooders) f.conn.onData(chunk(f.id));
  const echoes = (link: MqttLink): string[] =>
    link
      .packets(4)
      .filter((p) => p.type === 3)
      .map((p) => (p as { payload: Buffer }).payload.toString());
  let interleaved = false;
  for (let i = 0; i < 200; i++) {
    const [a, b] = flooders.map((f) => echoes(f.link).length);
    if (a! > 0 && a! < 2000 && b! > 0 && b! < 2000) interleaved = true;
    if (a === 2000 && b === 2000) break;
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(interleaved, 'at some turn both clients had handled part of their chunk');
  for (const f of flooders)
    assert.deepEqual(
      echoes(f.link),
      Array.from({ length: 2000 }, (_, i) => String(i)),
      `client ${f.id}: every PUBLISH, in order`,
    );
});
