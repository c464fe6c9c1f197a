import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker.js';
import { Message, type QoS } from '../../src/core/message.js';
import { receiveQos2, releaseQos2 } from '../../src/core/qos2-receipt.js';
import { Delivered, type Delivery, type KickReason, type Session, type SessionOwner } from '../../src/core/session.js';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { Logger } from '../../src/log/logger.js';
import type { StoredSubscription } from '../../src/store/types.js';

interface Sent {
  topic: string;
  qos: QoS;
  retain: boolean;
  packetId: number;
  dup: boolean;
  subIds: readonly number[] | null;
}

class FakeOwner implements SessionOwner {
  sendWindow = 65535;
  sent: Sent[] = [];
  releases: number[] = [];
  kicks: KickReason[] = [];
  session: Session | null = null;
  constructor(private readonly broker: Broker) {}
  deliver(d: Delivery): Delivered {
    this.sent.push({ topic: d.msg.topic, qos: d.qos, retain: d.retain, packetId: d.id, dup: d.redelivered, subIds: d.subscriptionIds });
    return Delivered.Written;
  }
  release(id: number): void {
    this.releases.push(id);
  }
  kick(reason: KickReason): void {
    this.kicks.push(reason);
    if (this.session !== null) this.broker.detach(this.session, this, null);
  }
}

async function newBroker(limits: Partial<{ maxInflight: number; maxQueuedMessages: number; maxQueuedBytes: number; maxRetainedBytes: number }> = {}): Promise<Broker> {
  const broker = new Broker(
    { maxInflight: 64, maxQueuedMessages: 1000, maxQueuedBytes: 0, maxSessionExpiry: 86400, maxRetainedMessages: 1000, ...limits },
    new MemoryStore(),
    new TopicTrie(),
    new Logger({ level: 'silent' }),
  );
  await broker.start();
  broker.wheel.stop(); // tests drive time by hand
  return broker;
}

function attach(broker: Broker, clientId: string, cleanStart = true, expiry = 0): { owner: FakeOwner; session: Session; present: boolean } {
  const owner = new FakeOwner(broker);
  const { session, sessionPresent } = broker.connect(clientId, 'mqtt/5', cleanStart, expiry, owner);
  owner.session = session;
  broker.resume(session);
  return { owner, session, present: sessionPresent };
}

function sub(filter: string, qos: QoS, extra: Partial<StoredSubscription> = {}): StoredSubscription {
  return { filter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: 0, ...extra };
}

function msg(topic: string, qos: QoS, payload = 'x', origin: string | null = 'publisher'): Message {
  return new Message(topic, Buffer.from(payload), qos, false, null, 0, origin);
}

test('overlapping subscriptions of one session give one delivery at the highest QoS with every identifier', async () => {
  const broker = await newBroker();
  const { owner, session } = attach(broker, 'a');
  broker.subscribe(session, sub('fleet/+/speed', 1, { subscriptionId: 3 }));
  broker.subscribe(session, sub('fleet/#', 2, { subscriptionId: 9 }));
  const outcome = broker.publish(msg('fleet/v1/speed', 2));
  assert.equal(outcome.matched, 1);
  assert.equal(owner.sent.length, 1);
  assert.equal(owner.sent[0]!.qos, 2);
  assert.deepEqual([...owner.sent[0]!.subIds!].sort(), [3, 9]);
});

test('No Local skips the publisher own subscription', async () => {
  const broker = await newBroker();
  const { owner, session } = attach(broker, 'self');
  broker.subscribe(session, sub('t', 0, { noLocal: true }));
  broker.publish(msg('t', 0, 'x', 'self'));
  broker.publish(msg('t', 0, 'y', 'other'));
  assert.deepEqual(
    owner.sent.map((s) => s.topic),
    ['t'],
  );
  assert.equal(owner.sent.length, 1);
});

test('the inflight window never exceeds the client Receive Maximum; acks release the queue in order', async () => {
  const broker = await newBroker();
  const { owner, session } = attach(broker, 'slow');
  owner.sendWindow = 2;
  broker.subscribe(session, sub('q', 1));
  for (let i = 0; i < 5; i++) broker.publish(msg('q', 1, String(i)));
  assert.equal(owner.sent.length, 2);
  assert.equal(session.queue.length, 3);
  broker.acknowledge(session, owner.sent[0]!.packetId);
  assert.equal(owner.sent.length, 3);
  broker.acknowledge(session, owner.sent[1]!.packetId);
  broker.acknowledge(session, owner.sent[2]!.packetId);
  assert.equal(owner.sent.length, 5);
  assert.equal(new Set(owner.sent.map((s) => s.packetId)).size, 5);
});

test('an offline persistent session queues QoS 1/2, not QoS 0, bounded by --max-queued-messages', async () => {
  const broker = await newBroker({ maxQueuedMessages: 3 });
  const first = attach(broker, 'dev', false, 3600);
  broker.subscribe(first.session, sub('d/#', 2));
  broker.detach(first.session, first.owner, null);
  broker.publish(msg('d/0', 0));
  for (let i = 1; i <= 5; i++) broker.publish(msg(`d/${i}`, 1));
  assert.equal(broker.metrics.queueOverflowDrops, 2);
  const again = attach(broker, 'dev', false, 3600);
  assert.equal(again.present, true);
  assert.deepEqual(
    again.owner.sent.map((s) => s.topic),
    ['d/1', 'd/2', 'd/3'],
  );
});

test('--max-queued-bytes bounds the queue by payload size', async () => {
  const broker = await newBroker({ maxQueuedBytes: 10 });
  const first = attach(broker, 'bytes', false, 3600);
  broker.subscribe(first.session, sub('b', 1));
  broker.detach(first.session, first.owner, null);
  broker.publish(msg('b', 1, '123456'));
  broker.publish(msg('b', 1, '123456'));
  assert.equal(first.session.queue.length, 1);
  assert.equal(first.session.queuedBytes, 6);
});

test('takeover kicks the first connection (takeover) and resends its inflight messages with DUP', async () => {
  const broker = await newBroker();
  const first = attach(broker, 'same', false, 3600);
  broker.subscribe(first.session, sub('t', 1));
  broker.publish(msg('t', 1));
  const pid = first.owner.sent[0]!.packetId;
  const second = attach(broker, 'same', false, 3600);
  assert.deepEqual(first.owner.kicks, ['takeover']);
  assert.equal(second.present, true);
  assert.equal(second.session, first.session);
  assert.deepEqual(
    second.owner.sent.map((s) => [s.packetId, s.dup]),
    [[pid, true]],
  );
});

test('a QoS 2 delivery whose PUBREC arrived resends PUBREL, not PUBLISH, after reconnect', async () => {
  const broker = await newBroker();
  const first = attach(broker, 'q2', false, 3600);
  broker.subscribe(first.session, sub('t', 2));
  broker.publish(msg('t', 2));
  const pid = first.owner.sent[0]!.packetId;
  assert.equal(broker.received(first.session, pid, 0), 0);
  broker.detach(first.session, first.owner, null);
  const again = attach(broker, 'q2', false, 3600);
  assert.deepEqual(again.owner.sent, []);
  assert.deepEqual(again.owner.releases, [pid]);
  assert.equal(broker.completed(again.session, pid), true);
  assert.equal(again.session.inflight.size, 0);
});

test('inbound QoS 2 duplicates are recognised until PUBREL', async () => {
  const broker = await newBroker();
  const { session } = attach(broker, 'in');
  assert.equal(receiveQos2(broker.store, session, 7), true);
  assert.equal(receiveQos2(broker.store, session, 7), false);
  assert.equal(releaseQos2(broker.store, session, 7), true);
  assert.equal(releaseQos2(broker.store, session, 7), false);
  assert.equal(receiveQos2(broker.store, session, 7), true);
});

test('shared group: round robin over members, and a leaving member hands its QoS 1 messages to another', async () => {
  const broker = await newBroker();
  const a = attach(broker, 'a');
  const b = attach(broker, 'b');
  broker.subscribe(a.session, sub('$share/g/jobs', 1));
  broker.subscribe(b.session, sub('$share/g/jobs', 1));
  for (let i = 0; i < 4; i++) broker.publish(msg('jobs', 1, String(i)));
  assert.equal(a.owner.sent.length, 2);
  assert.equal(b.owner.sent.length, 2);
  broker.detach(a.session, a.owner, null); // a never acked
  assert.equal(b.owner.sent.length, 4);
});

test('will with a delay is published after it, and cancelled by a reconnect within it', async () => {
  const broker = await newBroker();
  const watcher = attach(broker, 'watcher');
  broker.subscribe(watcher.session, sub('wills/#', 0));
  const now = Date.now();
  broker.wheel.tick(now);
  const dev = attach(broker, 'dev1', false, 60);
  broker.detach(dev.session, dev.owner, { message: msg('wills/dev1', 0, 'gone', 'dev1'), delay: 2, expiryInterval: 0 });
  broker.wheel.tick(now + 1000);
  assert.equal(watcher.owner.sent.length, 0);
  broker.wheel.tick(now + 2250);
  assert.deepEqual(
    watcher.owner.sent.map((s) => s.topic),
    ['wills/dev1'],
  );

  const dev2 = attach(broker, 'dev2', false, 60);
  broker.detach(dev2.session, dev2.owner, { message: msg('wills/dev2', 0, 'gone', 'dev2'), delay: 2, expiryInterval: 0 });
  attach(broker, 'dev2', false, 60);
  broker.wheel.tick(now + 5000);
  assert.deepEqual(
    watcher.owner.sent.map((s) => s.topic),
    ['wills/dev1'],
  );
});

test('a disconnected session expires after its Session Expiry Interval', async () => {
  const broker = await newBroker();
  const now = Date.now();
  broker.wheel.tick(now);
  const dev = attach(broker, 'exp', false, 1);
  broker.subscribe(dev.session, sub('x', 1));
  broker.detach(dev.session, dev.owner, null);
  assert.equal(broker.sessions.has('exp'), true);
  broker.wheel.tick(now + 1500);
  assert.equal(broker.sessions.has('exp'), false);
  assert.equal(broker.publish(msg('x', 1)).matched, 0);
});

test('--max-retained-bytes: a message past it is delivered but not retained, the earlier one stays; clearing makes room', async () => {
  // 'b/1' + 10 bytes = 13 each: two fit in 30, a third does not.
  const broker = await newBroker({ maxRetainedBytes: 30 });
  const { owner, session } = attach(broker, 'live');
  broker.subscribe(session, sub('b/#', 0));
  const retained = (topic: string, payload: string): Message => new Message(topic, Buffer.from(payload), 0, true, null, 0, null);
  broker.publish(retained('b/1', '0123456789'));
  broker.publish(retained('b/2', '0123456789'));
  broker.publish(retained('b/3', '0123456789'));
  assert.equal(owner.sent.length, 3, 'every message reaches the live subscriber');
  assert.equal(broker.retainedCount, 2);
  assert.equal(broker.retainedMessage('b/3'), undefined);
  // A bigger replacement past the limit is refused and the earlier value stays; a same-size one is fine.
  broker.publish(retained('b/2', '0123456789ABCDEF'));
  assert.equal(broker.retainedMessage('b/2')?.payload.toString(), '0123456789');
  broker.publish(retained('b/2', 'abcdefghij'));
  assert.equal(broker.retainedMessage('b/2')?.payload.toString(), 'abcdefghij');
  broker.publish(retained('b/1', ''));
  broker.publish(retained('b/3', '0123456789'));
  assert.equal(broker.retainedMessage('b/3')?.payload.toString(), '0123456789');
  assert.equal(broker.metrics.retainedRefused, 2);
});

test('retained messages: delivered on subscribe per Retain Handling, cleared by an empty payload', async () => {
  const broker = await newBroker();
  broker.publish(new Message('r/1', Buffer.from('v'), 1, true, null, 0, null));
  const { owner, session } = attach(broker, 'r');
  const s = sub('r/#', 1, { retainHandling: 1 });
  broker.sendRetained(session, s, broker.subscribe(session, s));
  assert.deepEqual(
    owner.sent.map((x) => [x.topic, x.retain]),
    [['r/1', true]],
  );
  broker.sendRetained(session, s, broker.subscribe(session, s)); // existed: nothing again
  assert.equal(owner.sent.length, 1);
  broker.publish(new Message('r/1', Buffer.alloc(0), 0, true, null, 0, null));
  assert.equal(broker.retainedCount, 0);
});
