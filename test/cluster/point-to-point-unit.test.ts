/**
 * Point-to-point across nodes, the parts a real cluster hardly shows: a client registry that
 * does not answer costs the message (counted, logged) and nothing else, and a client no node
 * holds is counted, not sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hooks } from '../../src/core/hooks.js';
import { Message } from '../../src/core/message.js';
import type { Broker } from '../../src/core/broker.js';
import type { AckGate } from '../../src/cluster/ack-gate.js';
import type { ClientRecord } from '../../src/cluster/client-record.js';
import type { NatsLink } from '../../src/cluster/nats-link.js';
import { PointToPoint } from '../../src/cluster/point-to-point.js';
import { Qos2Copies } from '../../src/cluster/qos2-copies.js';
import { Logger, LogRateLimit } from '../../src/log/logger.js';

function setup(
  locate: (clientId: string) => Promise<ClientRecord | null>,
  published: Array<{ subject: string }> | null = null,
): { hooks: Hooks; p2p: PointToPoint; held: Promise<void>[]; lines: string[] } {
  const hooks = new Hooks();
  const broker = { hooks, deliverTo: () => false } as unknown as Broker;
  const nc = published === null ? null : { publish: (subject: string) => published.push({ subject }) };
  const link = { up: true, nc: null } as unknown as NatsLink;
  const held: Promise<void>[] = [];
  const gate = { hold: (p: Promise<void>) => held.push(p) } as unknown as AckGate;
  const lines: string[] = [];
  const log = new Logger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } });
  const p2p = new PointToPoint(broker, link, gate, new Qos2Copies('node-a'), locate, 'node-a', log, new LogRateLimit(100));
  p2p.attach();
  if (nc !== null) p2p.up(nc as never, false);
  return { hooks, p2p, held, lines };
}

test('a registry that does not answer: the message is counted not sent, logged, and no promise is left rejected', async () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  try {
    const { hooks, p2p, held, lines } = setup(() => Promise.reject(new Error('registry down')));
    const msg = new Message('app/p2p/dev-1', Buffer.from('x'), 1, false, null, 0, 'sender');
    assert.equal(hooks.pointToPointAway!('dev-1', msg, { canPublish: () => true }), true);
    assert.equal(held.length, 1, 'the QoS 1 publisher waits for the lookup');
    await held[0];
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(p2p.counters.notSent, 1);
    assert.ok(lines.some((l) => l.includes('point-to-point message not sent') && l.includes('registry down')));
    assert.deepEqual(rejections, []);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});

test('a client with no record, or a record naming this node without the session here, is counted unknown', async () => {
  const records = new Map<string, ClientRecord | null>([
    ['gone', null],
    ['here', { node: 'node-a', instance: 'i', online: true, at: 0, session: null, will: null }],
  ]);
  const { hooks, p2p, held } = setup(async (id) => records.get(id) ?? null);
  for (const id of ['gone', 'here']) hooks.pointToPointAway!(id, new Message(`app/p2p/${id}`, Buffer.from('x'), 1, false, null, 0, 's'), null);
  await Promise.all(held);
  assert.equal(p2p.counters.unknown, 2);
  assert.equal(p2p.counters.sent, 0);
});

test('a topic NATS headers cannot carry (a line break) costs that message only: counted, and the publisher is still acknowledged', async () => {
  const published: Array<{ subject: string }> = [];
  const record: ClientRecord = { node: 'node-b', instance: 'i', online: true, at: 0, session: null, will: null };
  const { hooks, p2p, held } = setup(async () => record, published);
  hooks.pointToPointAway!('dev-2', new Message('app/p2p/dev-2\nx', Buffer.from('x'), 1, false, null, 0, 's'), null);
  hooks.pointToPointAway!('dev-2', new Message('app/p2p/dev-2', Buffer.from('y'), 1, false, null, 0, 's'), null);
  const settled = await Promise.allSettled(held);
  assert.deepEqual(
    settled.map((r) => r.status),
    ['fulfilled', 'fulfilled'],
    'the ack gate waits on these: none may reject',
  );
  assert.deepEqual([p2p.counters.notSent, p2p.counters.sent], [1, 1]);
  assert.equal(published.length, 1);
  assert.ok(published[0]!.subject.startsWith('$JUNCTION.p2p.'));
});
