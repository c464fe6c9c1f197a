/**
 * A message's MQTT side in NATS headers, through a real nats-server: what a node sends is read
 * back the same, and the raw header reader (readMsgHeaders, which skips nats.js's MsgHdrs) reads
 * exactly what nats.js would, for Junction's headers and for a NATS-native publisher's; and the
 * nats.js internals Junction reads (nats-internals.ts) are where it looks for them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as natsConnect, headers, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { protocolOf, rawBytes, rawHeaderLength, socketOf } from '../../src/cluster/nats-internals.js';
import { Message } from '../../src/core/message.js';
import { bareQos1Headers, H_MSG_ID, messageFrom, messageHeaders, readHeaders, readMsgHeaders, type HeaderFields } from '../../src/cluster/headers.js';

let nats: ServiceProcess;
let nc: NatsConnection;

before(async () => {
  nats = await ServiceProcess.nats();
  nc = await natsConnect({ servers: `nats://127.0.0.1:${nats.port}` });
});

after(async () => {
  await nc?.close();
  await nats?.stop();
});

/** Sends each header set on one subject and gives back the messages as received. */
async function roundTrip(sets: Array<MsgHdrs | undefined>): Promise<Msg[]> {
  const got: Msg[] = [];
  const sub = nc.subscribe('hdr.test', {
    max: sets.length,
    callback: (_err, m) => {
      got.push(m);
    },
  });
  for (const h of sets) nc.publish('hdr.test', 'payload', h === undefined ? undefined : { headers: h });
  await nc.flush();
  await sub.closed;
  return got;
}

test('readMsgHeaders reads what nats.js reads, for every header Junction sends and for odd ones', async () => {
  const now = Date.now();
  const full = new Message(
    'a/b',
    Buffer.from('x'),
    2,
    true,
    {
      payloadFormatIndicator: 1,
      contentType: 'text/plän',
      responseTopic: 'r/t',
      correlationData: Buffer.from([0, 1, 2]),
      userProperties: [
        { key: 'k', value: 'v: with colon' },
        { key: 'ключ', value: 'значение' },
      ],
    },
    now + 30_000,
    'c1',
  );
  const withId = messageHeaders(full, 'node-x', now, 'a/b');
  withId.set(H_MSG_ID, 'node-x.1.a');
  const odd = headers();
  odd.set('X-Other', 'ignored');
  odd.set('Junction-QoS', '  1  ');
  odd.append('Junction-Node', 'first');
  odd.append('Junction-Node', 'second');
  const sets = [withId, bareQos1Headers('node-y'), messageHeaders(new Message('t', Buffer.alloc(0), 1, false, null, 0, null), 'n', now), odd, undefined];
  const got = await roundTrip(sets);
  assert.equal(got.length, sets.length);
  for (const m of got) {
    // The fast path needs nats.js's internals: a nats.js without them would make this reader fall back silently.
    assert.equal(typeof rawHeaderLength(m), 'number', 'nats.js keeps the header length');
    assert.ok(rawBytes(m) instanceof Uint8Array, 'nats.js keeps the raw bytes');
    const fast: HeaderFields = { ...readMsgHeaders(m) };
    const slow: HeaderFields = { ...readHeaders(m.headers) };
    assert.deepEqual(fast, slow);
  }
  const f = readMsgHeaders(got[0]!);
  assert.deepEqual([f.node, f.qos, f.retain, f.topic, f.msgId, f.contentType], ['node-x', '2', '1', 'a/b', 'node-x.1.a', 'text/plän']);
  const back = messageFrom(f.topic, Buffer.from(got[0]!.data), f, now, null);
  assert.deepEqual(back.properties, full.properties);
  assert.equal(back.expiresAt, now + 30_000);
  assert.deepEqual([readMsgHeaders(got[1]!).node, readMsgHeaders(got[1]!).qos], ['node-y', '1']);
  assert.deepEqual([readMsgHeaders(got[3]!).qos, readMsgHeaders(got[3]!).node], ['1', 'first']);
  assert.equal(readMsgHeaders(got[4]!).qos, '', 'no headers: QoS 0');
});

test('the encoded-once QoS 1 headers are the bytes a QoS 1 message without properties gets', () => {
  const once = bareQos1Headers('node-z') as unknown as { encode(): Uint8Array };
  const each = messageHeaders(new Message('t', Buffer.alloc(0), 1, false, null, 0, null), 'node-z', Date.now()) as unknown as { encode(): Uint8Array };
  assert.deepEqual(Buffer.from(once.encode()), Buffer.from(each.encode()));
  assert.equal(once.encode(), once.encode(), 'the same bytes each time, not encoded again');
});

test("the connection's internals Junction reads (protocol handler, socket) are there on a real nats.js connection", () => {
  const protocol = protocolOf(nc);
  assert.ok(protocol !== null, 'nc.protocol with sendCommand and outMsgs (the plain publisher)');
  assert.equal(typeof protocol.noMorePublishing, 'boolean');
  assert.ok(socketOf(nc) !== null, 'nc.protocol.transport.socket, a node:net Socket (the ingest pacer)');
});
