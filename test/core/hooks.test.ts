/**
 * The hook seam: what bridges, the cluster and metrics will listen to. Each event fires with
 * what happened (and why, for drops and ended sessions); a slot is null while nobody listens,
 * so the hot path pays one field read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker } from '../../src/core/broker.js';
import { startedBroker } from './broker-fixture.js';
import { Message, type QoS } from '../../src/core/message.js';
import { Delivered, type Delivery, type Session, type SessionOwner } from '../../src/core/session.js';
import type { DropReason } from '../../src/core/hooks.js';
import { MqttConnection } from '../../src/protocols/mqtt/connection.js';
import { encodeConnect, encodeDisconnect } from '../../src/protocols/mqtt/codec/index.js';
import { scanFrames } from '../../src/protocols/mqtt/codec/scanner.js';
import { MemoryLink, memoryKit } from '../gateway/memory-kit.js';

/** An owner whose answer to each delivery the test chooses. */
class Owner implements SessionOwner {
  sendWindow = 65535;
  answer = Delivered.Written;
  deliver(_d: Delivery): Delivered {
    return this.answer;
  }
  kick(): void {}
}

function broker(): Promise<Broker> {
  return startedBroker({ maxInflight: 8, maxQueuedMessages: 1, maxQueuedBytes: 0, maxSessionExpiry: 3600, maxRetainedMessages: 10 });
}

const sub = (filter: string, qos: QoS) => ({ filter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 as const, subscriptionId: 0 });
const msg = (topic: string, qos: QoS, expiresAt = 0) => new Message(topic, Buffer.from('x'), qos, false, null, expiresAt, null);

test('slots are null until someone listens, and null again when the last listener leaves', async () => {
  const b = await broker();
  assert.equal(b.hooks.messageAccepted, null);
  const seen: string[] = [];
  const offA = b.hooks.on('messageAccepted', (m) => seen.push(`a:${m.topic}`));
  const offB = b.hooks.on('messageAccepted', (m) => seen.push(`b:${m.topic}`));
  b.publish(msg('t/1', 0));
  offA();
  b.publish(msg('t/2', 0));
  offB();
  assert.equal(b.hooks.messageAccepted, null);
  b.publish(msg('t/3', 0));
  assert.deepEqual(seen, ['a:t/1', 'b:t/1', 'b:t/2']);
});

test('delivered and dropped, with why: queue full, expired, too large, socket buffer, refused', async () => {
  const b = await broker();
  const delivered: string[] = [];
  const dropped: Array<[string | null, string, DropReason]> = [];
  b.hooks.on('messageDelivered', (s, m, qos) => delivered.push(`${s.clientId}:${m.topic}:${qos}`));
  b.hooks.on('messageDropped', (s, m, why) => dropped.push([s?.clientId ?? null, m.topic, why]));

  const owner = new Owner();
  const live = b.connect('live', 'mqtt/5', true, 0, owner).session;
  b.subscribe(live, sub('d/#', 1));
  b.publish(msg('d/ok', 1));
  for (const [answer, topic] of [
    [Delivered.TooLarge, 'd/large'],
    [Delivered.SocketBuffer, 'd/slow'],
    [Delivered.Refused, 'd/refused'],
  ] as const) {
    owner.answer = answer;
    b.publish(msg(topic, 0));
  }
  owner.answer = Delivered.Written;
  b.publish(msg('d/expired', 0, 1));

  // An offline persistent session with room for one queued message.
  const away = new Owner();
  const offline = b.connect('away', 'mqtt/5', true, 3600, away).session;
  b.subscribe(offline, sub('q/#', 1));
  b.detach(offline, away, null);
  b.publish(msg('q/1', 1));
  b.publish(msg('q/2', 1));

  assert.deepEqual(delivered, ['live:d/ok:1']);
  assert.deepEqual(dropped, [
    ['live', 'd/large', 'too-large'],
    ['live', 'd/slow', 'socket-buffer'],
    ['live', 'd/refused', 'refused'],
    ['live', 'd/expired', 'expired'],
    ['away', 'q/2', 'queue-full'],
  ]);
  assert.equal(b.metrics.messagesDropped, 5, 'every drop is counted once');
});

test('sessions: created, and ended when replaced by a clean start, when their connection ends, or when they expire', async () => {
  const b = await broker();
  const events: string[] = [];
  b.hooks.on('sessionCreated', (s: Session) => events.push(`created:${s.clientId}`));
  b.hooks.on('sessionEnded', (s: Session, why) => events.push(`ended:${s.clientId}:${why}`));
  const o1 = new Owner();
  const first = b.connect('p', 'mqtt/5', false, 60, o1).session;
  b.detach(first, o1, null);
  b.connect('p', 'mqtt/5', true, 0, new Owner());
  const o2 = new Owner();
  const transient = b.connect('t', 'mqtt/5', true, 0, o2).session;
  b.detach(transient, o2, null);
  const o3 = new Owner();
  const expiring = b.connect('e', 'mqtt/5', true, 1, o3).session;
  b.detach(expiring, o3, null);
  expiring.expiryTimer!.onTimer(); // what the wheel calls when the expiry is due
  assert.deepEqual(events, ['created:p', 'ended:p:clean-start', 'created:p', 'created:t', 'ended:t:disconnected', 'created:e', 'ended:e:expired']);
});

test('clients: connected and disconnected, with the reason, through the gateway', async () => {
  const { kit, broker: b } = await memoryKit();
  const events: string[] = [];
  b.hooks.on('clientConnected', (c) => events.push(`connected:${c.clientId}:${c.protocol}/${c.protocolVersion}`));
  b.hooks.on('clientDisconnected', (c, why) => events.push(`disconnected:${c.clientId}:${why}`));
  const conn = new MqttConnection(new MemoryLink(), kit, {
    maxPacketSize: 1 << 20,
    receiveMaximum: 8,
    topicAliasMaximum: 0,
    maxKeepalive: 60,
    maximumQos: 2,
    connectTimeoutMs: 5000,
    scan: scanFrames,
  });
  conn.onData(encodeConnect({ protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: 'hooked' }));
  conn.onData(encodeDisconnect(0, {}));
  assert.deepEqual(events, ['connected:hooked:mqtt/5', 'disconnected:hooked:normal']);
});
