/**
 * A session leaving one broker and entering another (what the cluster does when a client
 * reconnects on another node): its connection ends as a takeover, its subscriptions, inflight
 * window (packet ids, QoS 2 releases) and queue arrive intact, the old broker keeps nothing, and
 * the new one resumes it as its own; a survivor's leftovers are delivered like new messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker } from '../../src/core/broker.js';
import { startedBroker } from './broker-fixture.js';
import { Message, type QoS } from '../../src/core/message.js';
import { Delivered, type Delivery, type KickReason, type Session, type SessionOwner } from '../../src/core/session.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { deliverable } from '../../src/cluster/session-handoff.js';
import { fromJson, toJson } from '../../src/cluster/record-stream.js';
import type { SessionState } from '../../src/core/session-state.js';

class Owner implements SessionOwner {
  sendWindow = 2;
  sent: Array<{ payload: string; id: number; dup: boolean; qos: QoS }> = [];
  releases: number[] = [];
  kicks: KickReason[] = [];
  session: Session | null = null;
  constructor(private readonly broker: Broker) {}
  deliver(d: Delivery): Delivered {
    this.sent.push({ payload: d.msg.payload.toString(), id: d.id, dup: d.redelivered, qos: d.qos });
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

function newBroker(store = new MemoryStore()): Promise<Broker> {
  return startedBroker({ maxInflight: 64, maxQueuedMessages: 1000, maxQueuedBytes: 0, maxSessionExpiry: 86400, maxRetainedMessages: 1000 }, store);
}

function attach(broker: Broker, clientId: string): { owner: Owner; session: Session; present: boolean } {
  const owner = new Owner(broker);
  const { session, sessionPresent } = broker.connect(clientId, 'mqtt/5', false, 300, owner);
  owner.session = session;
  broker.resume(session);
  return { owner, session, present: sessionPresent };
}

function msg(topic: string, qos: QoS, payload: string): Message {
  return new Message(topic, Buffer.from(payload), qos, false, { correlationData: Buffer.from([1, 2, 3]) }, 0, 'p');
}

test('an exported session takes its subscriptions, inflight ids, QoS 2 release and queue to another broker, which resumes it', async () => {
  const from = await newBroker();
  const { owner, session } = attach(from, 'dev');
  from.subscribe(session, { filter: 'a/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: 7 });
  for (const [p, q] of [
    ['one', 2],
    ['two', 1],
    ['three', 1],
    ['four', 2],
  ] as const)
    from.publish(msg('a/x', q, p));
  // Window 2: 'one' (QoS 2) and 'two' inflight; 'one' received (PUBREC): its release is owed.
  assert.deepEqual(
    owner.sent.map((s) => s.payload),
    ['one', 'two'],
  );
  from.received(session, owner.sent[0]!.id, 0);

  // Over the wire as the cluster sends it (Buffers in base64).
  const state = fromJson<SessionState>(toJson(from.transfer.exportSession('dev')));
  assert.deepEqual(owner.kicks, ['takeover']);
  assert.equal(from.sessions.has('dev'), false, 'nothing left behind');
  assert.equal(from.publish(msg('a/x', 1, 'late')).matched, 0, 'its subscription left with it');

  const to = await newBroker();
  to.transfer.importSession(state);
  const again = attach(to, 'dev');
  assert.equal(again.present, true);
  assert.deepEqual(again.owner.releases, [owner.sent[0]!.id], 'PUBREL of the received QoS 2 delivery again, same id');
  // The window (2) holds the released 'one' and the redelivered 'two'; the queue follows as it frees.
  assert.deepEqual(again.owner.sent, [{ payload: 'two', id: owner.sent[1]!.id, dup: true, qos: 1 }]);
  to.acknowledge(again.session, again.owner.sent[0]!.id);
  assert.equal(again.owner.sent[1]!.payload, 'three');
  to.completed(again.session, owner.sent[0]!.id);
  assert.deepEqual(
    again.owner.sent.map((x) => x.payload),
    ['two', 'three', 'four'],
  );
  assert.equal(to.publish(msg('a/y', 1, 'new')).matched, 1, 'the subscription serves on the new broker');
  const sub = again.session.subscriptions.get('a/#');
  assert.equal(sub?.subscriptionId, 7);
});

test('leftovers: never-sent and unacknowledged QoS 1 deliveries go on; a QoS 2 delivery already sent stays out', async () => {
  const from = await newBroker();
  const { session } = attach(from, 'dev');
  from.subscribe(session, { filter: 'b', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: 0 });
  for (const [p, q] of [
    ['q2-sent', 2],
    ['q1-sent', 1],
    ['q2-queued', 2],
  ] as const)
    from.publish(msg('b', q, p));
  const state = from.transfer.exportSession('dev')!;
  const { keep, dropped } = deliverable(state.outgoing);
  assert.equal(dropped, 1);
  assert.deepEqual(
    keep.map((r) => r.message.payload.toString()),
    ['q1-sent', 'q2-queued'],
  );

  const to = await newBroker();
  const { owner } = attach(to, 'dev');
  assert.equal(to.transfer.appendQueued('dev', keep), 2);
  assert.deepEqual(
    owner.sent.map((s) => [s.payload, s.dup]),
    [
      ['q1-sent', false],
      ['q2-queued', false],
    ],
  );
  assert.equal(to.transfer.appendQueued('nobody', keep), 0);
});
