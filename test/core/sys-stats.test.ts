import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/core/broker.js';
import { Message } from '../../src/core/message.js';
import { Delivered, type Delivery, type SessionOwner } from '../../src/core/session.js';
import { SysStats } from '../../src/core/sys-stats.js';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { Logger } from '../../src/log/logger.js';

class Collector implements SessionOwner {
  sendWindow = 100;
  got: Message[] = [];
  deliver(d: Delivery): Delivered {
    this.got.push(d.msg);
    return Delivered.Written;
  }
  kick(): void {}
}

test('stats carry online sessions and drop counters, and are only built when someone can receive them', async () => {
  const broker = new Broker(
    { maxInflight: 8, maxQueuedMessages: 1, maxQueuedBytes: 0, maxSessionExpiry: 3600, maxRetainedMessages: 10 },
    new MemoryStore(),
    new TopicTrie(),
    new Logger({ level: 'silent' }),
  );
  await broker.start();
  broker.wheel.stop();
  const stats = new SysStats(broker, 'n1', 1000);
  const watcher = new Collector();
  const { session } = broker.connect('watcher', 'mqtt/5', true, 0, watcher);
  const next = stats.onTimer(1_000);
  assert.equal(next, 2_000, 'keeps its interval');
  assert.equal(watcher.got.length, 0, 'nothing published without a $ subscription');

  broker.subscribe(session, { filter: '$SYS/brokers/+/stats', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: 0 });
  // An offline persistent session with a full queue: the second QoS 1 message is dropped.
  const offline = new Collector();
  const dev = broker.connect('dev', 'mqtt/5', false, 3600, offline);
  broker.subscribe(dev.session, { filter: 'd', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: 0 });
  broker.detach(dev.session, offline, null);
  broker.publish(new Message('d', Buffer.from('1'), 1, false, null, 0, null));
  broker.publish(new Message('d', Buffer.from('2'), 1, false, null, 0, null));

  stats.onTimer(3_000);
  assert.equal(watcher.got.length, 1);
  assert.equal(watcher.got[0]!.topic, '$SYS/brokers/n1/stats');
  const body = JSON.parse(watcher.got[0]!.payload.toString()) as { online: number; sessions: number; dropped: { queueFull: number } };
  assert.equal(body.online, 1);
  assert.equal(body.sessions, 2);
  assert.equal(body.dropped.queueFull, 1);
});
