/**
 * MQTT framing in the native TCP transport (native/src/net/frames.rs): once an online MQTT
 * connection asks (Link.frameMqtt), Rust scans what arrives and hands JavaScript whole frames with
 * their scan records, keeping a partial frame itself. First the transport alone (records, a
 * partial frame, plain bytes again after a scan error), then a broker process over it: a packet
 * trickled a byte at a time, a 2 MB PUBLISH, 10,000 PINGREQs in one write, a packet above
 * --max-packet-size after login. The broker tests run over node:net too (make test-node-tcp):
 * the same behaviour, whoever frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listenNativeTcp } from '../../src/transports/native-tcp.js';
import type { Link } from '../../src/transports/link.js';
import { loadNative } from '../../src/native/binding.js';
import { Logger } from '../../src/log/logger.js';
import { SCAN_HEADER, SCAN_LENGTH, SCAN_OFFSET, SCAN_STRIDE, SCAN_TOPIC_LENGTH, SCAN_TOPIC_OFFSET, SCAN_TYPE } from '../../src/protocols/mqtt/codec/scanner.js';
import { brokerFor, connect, waitFor } from '../interop/harness.js';
import { rawClient } from '../interop/raw-client.js';
import { PacketType, parseDisconnect, publishPacket, subscribePacket } from '../interop/wire.js';

const native = loadNative('on')!;

interface Seen {
  kind: 'frames' | 'data';
  bytes: Buffer;
  /** frames: [type, offset, length, topic] per record */
  records: Array<[number, number, number, string]>;
}

test('a framed link gets whole frames with their scan records, a partial frame waits in Rust, a scan error comes back as bytes', async () => {
  const log = new Logger({ level: 'warn', destination: { write: () => {} } });
  const seen: Seen[] = [];
  let link: Link | null = null;
  const server = await listenNativeTcp(
    native,
    { host: '127.0.0.1', port: 0, maxConnections: 100, pacing: { ratePerSecond: 0, backlog: 511, descriptors: native, log }, reusePort: false, refused: null },
    (l) => {
      link = l;
      return {
        onData: (chunk) => {
          seen.push({ kind: 'data', bytes: Buffer.from(chunk), records: [] });
          // The first bytes stand for a login: frame from now on, at most 200 bytes a packet.
          if (seen.length === 1) l.frameMqtt!(200, false);
        },
        onFrames: (chunk, scan, block) => {
          const records: Seen['records'] = [];
          for (let i = 0; i < scan[block]!; i++) {
            const at = block + SCAN_HEADER + i * SCAN_STRIDE;
            const off = scan[at + SCAN_TOPIC_OFFSET]!;
            records.push([scan[at + SCAN_TYPE]!, scan[at + SCAN_OFFSET]!, scan[at + SCAN_LENGTH]!, chunk.toString('latin1', off, off + scan[at + SCAN_TOPIC_LENGTH]!)]);
          }
          seen.push({ kind: 'frames', bytes: Buffer.from(chunk), records });
        },
        onDrain: () => {},
        onClose: () => {},
      };
    },
  );
  const s = net.connect(server.port, '127.0.0.1');
  s.setNoDelay(true);
  try {
    s.write('hello');
    await waitFor(() => seen.length === 1, 5000, 'the first bytes');
    assert.equal(typeof link!.frameMqtt, 'function');
    const a = publishPacket({ topic: 't/a', payload: 'one' });
    const b = publishPacket({ topic: 't/bb', payload: 'two' });
    const c = publishPacket({ topic: 't/ccc', payload: 'three' });
    s.write(Buffer.concat([a, b, c.subarray(0, 4)]));
    await waitFor(() => seen.length === 2, 5000, 'the first two frames');
    assert.equal(seen[1]!.kind, 'frames');
    assert.deepEqual(seen[1]!.bytes, Buffer.concat([a, b]), 'whole frames only');
    assert.deepEqual(seen[1]!.records, [
      [PacketType.PUBLISH, 0, a.length, 't/a'],
      [PacketType.PUBLISH, a.length, b.length, 't/bb'],
    ]);
    s.write(c.subarray(4));
    await waitFor(() => seen.length === 3, 5000, 'the third frame, once whole');
    assert.deepEqual(seen[2]!.bytes, c);
    assert.deepEqual(seen[2]!.records, [[PacketType.PUBLISH, 0, c.length, 't/ccc']]);
    // Above the limit: the bytes go to JavaScript as they are, from the frame boundary, framing off.
    const big = publishPacket({ topic: 't/big', payload: Buffer.alloc(400) });
    s.write(big.subarray(0, 100));
    await waitFor(() => seen.length === 4, 5000, 'the refused frame');
    assert.equal(seen[3]!.kind, 'data');
    assert.deepEqual(seen[3]!.bytes, big.subarray(0, 100));
    s.write(big.subarray(100, 150));
    await waitFor(() => seen.length === 5, 5000, 'more plain bytes');
    assert.equal(seen[4]!.kind, 'data', 'framing stays off until the protocol asks again');
  } finally {
    s.destroy();
    server.close();
  }
});

test('an online MQTT client: a packet trickled a byte at a time, a 2 MB PUBLISH, 10,000 PINGREQs in one write', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--max-packet-size', String(4 << 20)] });
  const sub = await connect(t, broker.url, { protocolVersion: 5 });
  const got: Buffer[] = [];
  sub.on('message', (_topic, payload) => got.push(payload));
  await sub.subscribeAsync('frames/#', { qos: 1 });

  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  // A QoS 1 PUBLISH, one byte per write, 2 ms apart: acknowledged once whole, delivered once.
  const trickled = publishPacket({ version: 5, topic: 'frames/trickle', payload: 'slowly', qos: 1, packetId: 7 });
  for (const byte of trickled) {
    raw.send(Buffer.of(byte));
    await new Promise((r) => setTimeout(r, 2));
  }
  const ack = await raw.next(PacketType.PUBACK);
  assert.equal(ack.body.readUInt16BE(0), 7);
  // 2 MB in 64 KiB writes.
  const payload = Buffer.alloc(2 << 20, 0x5a);
  payload.write('head', 0);
  payload.write('tail', payload.length - 4);
  const big = publishPacket({ version: 5, topic: 'frames/big', payload, qos: 1, packetId: 8 });
  for (let i = 0; i < big.length; i += 64 * 1024) raw.send(big.subarray(i, i + 64 * 1024));
  assert.equal((await raw.next(PacketType.PUBACK, 10_000)).body.readUInt16BE(0), 8);
  await waitFor(() => got.length === 2, 10_000, 'both messages at the subscriber');
  assert.equal(got[0]!.toString(), 'slowly');
  assert.ok(got[1]!.equals(payload), 'the large payload arrives intact');
  // 10,000 PINGREQs in one write: more frames than one native poll describes; each is answered.
  raw.send(Buffer.alloc(20_000).fill(Buffer.of(0xc0, 0x00)));
  let pongs = 0;
  while (pongs < 10_000) {
    await raw.next(PacketType.PINGRESP, 10_000);
    pongs++;
  }
  // Still framed afterwards: a SUBSCRIBE split in two writes is answered.
  const subscribe = subscribePacket(9, [{ filter: 'frames/x', options: 1 }], 5);
  raw.send(subscribe.subarray(0, 3));
  await new Promise((r) => setTimeout(r, 20));
  raw.send(subscribe.subarray(3));
  assert.equal((await raw.next(PacketType.SUBACK)).body.readUInt16BE(0), 9);
});

test('a packet above --max-packet-size after login, arriving in pieces: DISCONNECT 0x95 naming its size, other clients carry on', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--max-packet-size', '1000'] });
  const other = await rawClient(t, broker.port, 5);
  await other.handshake();
  const raw = await rawClient(t, broker.port, 5);
  await raw.handshake();
  const big = publishPacket({ version: 5, topic: 'frames/too-big', payload: Buffer.alloc(5000), qos: 1, packetId: 1 });
  raw.send(big.subarray(0, 3));
  await new Promise((r) => setTimeout(r, 20));
  raw.send(big.subarray(3, 2000));
  const rest = await raw.expectClose();
  const d = rest.find((p) => p.type === PacketType.DISCONNECT);
  assert.ok(d !== undefined, 'a DISCONNECT before the close');
  const { reason, props } = parseDisconnect(d);
  assert.equal(reason, 0x95);
  const text = props.find(([id]) => id === 0x1f)?.[1];
  assert.match(String(text), /packet of 5\d{3} bytes exceeds the maximum packet size of 1000 bytes/);
  other.send(Buffer.of(0xc0, 0x00));
  await other.next(PacketType.PINGRESP);
});
