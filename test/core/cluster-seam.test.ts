/**
 * What the core offers the cluster (src/cluster plugs in here; the core never imports it): hooks
 * for subscriptions coming and going and for messages routed by topic, routing a message from
 * another node without the hooks or the retained update, shared groups served elsewhere, and
 * retained messages set as another node decided.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker } from '../../src/core/broker.js';
import { startedBroker } from './broker-fixture.js';
import { Message, type QoS } from '../../src/core/message.js';
import { Delivered, type Delivery, type SessionOwner } from '../../src/core/session.js';

class Owner implements SessionOwner {
  sendWindow = 65535;
  readonly got: string[] = [];
  deliver(d: Delivery): Delivered {
    this.got.push(`${d.msg.topic} ${d.msg.payload.toString()}`);
    return Delivered.Written;
  }
  kick(): void {}
}

function broker(): Promise<Broker> {
  return startedBroker({ maxInflight: 8, maxQueuedMessages: 10, maxQueuedBytes: 0, maxSessionExpiry: 3600, maxRetainedMessages: 10 });
}

const sub = (filter: string, qos: QoS = 0) => ({ filter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 as const, subscriptionId: 0 });
const msg = (topic: string, text: string, retain = false) => new Message(topic, Buffer.from(text), 0, retain, null, 0, null);

test('subscriptionAdded and subscriptionRemoved: new filters, unsubscribes and ended sessions, not a replaced subscription', async () => {
  const b = await broker();
  const seen: string[] = [];
  b.hooks.on('subscriptionAdded', (s, e) => seen.push(`+${s.clientId} ${e.filter}`));
  b.hooks.on('subscriptionRemoved', (s, e) => seen.push(`-${s.clientId} ${e.filter}`));
  const { session } = b.connect('c1', 'mqtt', true, 0, new Owner());
  b.subscribe(session, sub('a/#'));
  b.subscribe(session, sub('a/#', 1));
  b.subscribe(session, sub('$share/g/b/+'));
  b.unsubscribe(session, 'a/#');
  b.detach(session, session.owner!, null);
  assert.deepEqual(seen, ['+c1 a/#', '+c1 $share/g/b/+', '-c1 a/#', '-c1 $share/g/b/+']);
});

test('messagePublished fires for a message routed by topic, not for a point-to-point one', async () => {
  const b = await broker();
  const seen: string[] = [];
  b.hooks.on('messagePublished', (m) => seen.push(m.topic));
  b.connect('dev', 'mqtt', true, 0, new Owner());
  b.publish(msg('t/1', 'x'));
  b.publishTo('dev', msg('gw/p2p/dev', 'y'));
  assert.deepEqual(seen, ['t/1']);
});

test('routeRemote reaches plain subscriptions only, without the hooks and without touching retained messages', async () => {
  const b = await broker();
  const accepted: string[] = [];
  b.hooks.on('messageAccepted', (m) => accepted.push(m.topic));
  b.hooks.on('messagePublished', (m) => accepted.push(m.topic));
  const plain = new Owner();
  const member = new Owner();
  b.subscribe(b.connect('p', 'mqtt', true, 0, plain).session, sub('r/#'));
  b.subscribe(b.connect('m', 'mqtt', true, 0, member).session, sub('$share/g/r/#'));
  assert.equal(b.routeRemote(msg('r/1', 'remote', true)), 1);
  assert.deepEqual(plain.got, ['r/1 remote']);
  assert.deepEqual(member.got, [], 'shared groups get remote messages through routeShared only');
  assert.deepEqual(accepted, []);
  assert.equal(b.retainedMessage('r/1'), undefined);
  assert.equal(b.routeShared(msg('r/2', 'job'), 'g', 'r/#'), true);
  assert.equal(b.routeShared(msg('r/2', 'job'), 'other', 'r/#'), false);
  assert.deepEqual(member.got, ['r/2 job']);
});

test('while shared groups are served elsewhere a local publish skips them; applyRetained sets and clears without routing', async () => {
  const b = await broker();
  const plain = new Owner();
  const member = new Owner();
  b.subscribe(b.connect('p', 'mqtt', true, 0, plain).session, sub('s/#'));
  b.subscribe(b.connect('m', 'mqtt', true, 0, member).session, sub('$share/g/s/#'));
  b.serveSharedGroupsElsewhere(true);
  b.publish(msg('s/1', 'one'));
  b.serveSharedGroupsElsewhere(false);
  b.publish(msg('s/2', 'two'));
  assert.deepEqual(plain.got, ['s/1 one', 's/2 two']);
  assert.deepEqual(member.got, ['s/2 two']);

  assert.equal(b.applyRetained(msg('cfg', 'v1', true)), true);
  assert.equal(b.retainedMessage('cfg')?.payload.toString(), 'v1');
  assert.deepEqual(plain.got.length, 2, 'not routed');
  assert.equal(b.applyRetained(msg('cfg', '', true)), true);
  assert.equal(b.retainedMessage('cfg'), undefined);
});

test("retainedCleared tells the cluster about an operator's delete, not about a clear another node decided", async () => {
  const b = await broker();
  const cleared: string[] = [];
  b.hooks.on('retainedCleared', (topic) => cleared.push(topic));
  b.publish(msg('cfg/a', 'v', true));
  b.applyRetained(msg('cfg/b', 'v', true));
  assert.equal(b.clearRetained('cfg/a'), true);
  assert.equal(b.clearRetained('cfg/none'), false);
  b.applyRetained(msg('cfg/b', '', true));
  assert.deepEqual(cleared, ['cfg/a']);
});
