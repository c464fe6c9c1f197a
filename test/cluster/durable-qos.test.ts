/**
 * Durable QoS (on by default, --cluster-durable-qos): three nats-servers, three Junction nodes. A node is killed (SIGKILL)
 * while publishers on the others send QoS 1 and QoS 2: the persistent subscriber that was on it
 * resumes elsewhere and gets every acknowledged message (QoS 2 exactly once), including those its
 * node held and those published while its session lived on no node. A session moved by a
 * takeover in the middle of a stream loses nothing either; an unsubscribe removes its consumer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, connect as natsConnect } from '@nats-io/transport-node';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { clientId, closeClient, connect, waitFor, type Broker, type TestContext } from '../interop/harness.js';
import { rawClient } from '../interop/raw-client.js';
import { PacketType, Prop, ackPacket, parseAck, publishPacket } from '../interop/wire.js';
import { awaitJournaled, awaitRoute, clusterNode, isProbe, journalMessages, natsUrls, publishNumbered, waitForLog } from './helpers.js';

const REDELIVERY_S = 2;
// Acks may wait out a JetStream leader election (about 7 s here) when a NATS server dies; a SUBACK
// may wait 10 s for every node to confirm its durable route (a busy machine, not the 2 s default).
const NODE_ARGS = ['--store', 'memory', '--cluster-connect-timeout', '30', '--cluster-redelivery', String(REDELIVERY_S), '--cluster-ack-timeout', '30', '--cluster-route-wait', '10000'];
/** A node's log line once its persistent sessions read the journal (its streams are there). */
const FEED_READY = 'cluster journal feed ready: persistent sessions read the journal';
let natsServers: ServiceProcess[];
let a: Broker;
let b: Broker;
let c: Broker;

before(async () => {
  natsServers = await ServiceProcess.natsCluster(3);
  const urls = (first: number): string => natsUrls([natsServers[first]!, ...natsServers.filter((_, i) => i !== first)]);
  [a, b, c] = await Promise.all([clusterNode('dq-a', urls(0), NODE_ARGS), clusterNode('dq-b', urls(1), NODE_ARGS), clusterNode('dq-c', urls(2), NODE_ARGS)]);
  for (const n of [a, b, c]) await waitForLog(n, (l) => l['msg'] === FEED_READY, 'the journal feed on each node', 60_000);
  await waitForLog(a, (l) => l['msg'] === 'cluster nodes' && Array.isArray(l['nodes']) && (l['nodes'] as unknown[]).length === 3, 'node A sees three nodes', 20_000);
});

after(async () => {
  if (process.env['CLUSTER_LOGS'] !== undefined) for (const n of [a, b, c]) for (const l of n?.logs ?? []) console.log(JSON.stringify(l));
  await Promise.all([a?.dispose(), b?.dispose(), c?.dispose()]);
  await Promise.all((natsServers ?? []).map((s) => s.stop().catch(() => undefined)));
});

/** An MQTT 5 client that fails over between `brokers` in order, counting each payload it receives. */
async function countingClient(t: TestContext, brokers: Broker[], opts: IClientOptions, counts: Map<string, number>): Promise<MqttClient> {
  const client = mqtt.connect({ servers: brokers.map((x) => ({ host: '127.0.0.1', port: x.port })), reconnectPeriod: 200, connectTimeout: 3000, protocolVersion: 5, ...opts });
  t.after(() => closeClient(client));
  client.on('message', (_topic, payload) => {
    if (!isProbe(payload)) counts.set(payload.toString(), (counts.get(payload.toString()) ?? 0) + 1);
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  return client;
}

/** Publishes 'ready' at QoS 1 on `topic` until the counting subscriber has it: its journal consumers read. */
async function awaitFeed(pub: MqttClient, topic: string, got: Map<string, number>): Promise<void> {
  await waitFor(
    () => {
      pub.publish(topic, 'ready', { qos: 1 });
      return got.has('ready');
    },
    15_000,
    "the subscriber's journal consumers",
  );
}

/** Polls an async check until it holds or `timeoutMs` passes. */
async function waitForAsync(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The durable consumers on the journal. */
async function journalConsumers(): Promise<string[]> {
  const nc = await natsConnect({ servers: natsUrls(natsServers).split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const ci of jsm.consumers.list('JUNCTION_JOURNAL')) names.push(ci.name);
    return names;
  } finally {
    await nc.close();
  }
}

test('a session that moves to another node in the middle of a QoS 1/2 stream gets every acknowledged message, QoS 2 exactly once', async (t) => {
  // One MQTT.js client that reconnects to the next server of its list (node A) when its connection
  // to node B breaks: its own QoS 2 state goes with it, as a device's would.
  const got = new Map<string, number>();
  const client = await countingClient(t, [b, a], { clientId: clientId('dq-move'), clean: false, properties: { sessionExpiryInterval: 300 } }, got);
  await client.subscribeAsync('dqm/#', { qos: 2 });
  const pub = await countingClient(t, [c], { clientId: clientId('dq-move-pub') }, new Map());
  await awaitRoute(pub, client, 'dqm/probe');
  // Node C journals dqm/# messages (it knows the durable route): what is published from now on survives the move.
  await awaitJournaled(natsUrls(natsServers), pub, 'dqm/probe');
  const sending = Promise.all([publishNumbered(pub, 'dqm/one', 'm1', 100, 1, 10), publishNumbered(pub, 'dqm/two', 'm2', 100, 2, 10)]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // MQTT.js goes through its servers in turn; a failed attempt may bring it back to B first.
  for (let tries = 0; client.options.port !== a.port; tries++) {
    assert.ok(tries < 5, 'the client went on to node A');
    const reconnected = new Promise((resolve) => client.once('connect', resolve));
    client.stream.destroy();
    await reconnected;
  }
  const [q1, q2] = await sending;
  await waitFor(() => [...q1, ...q2].every((p) => got.has(p)), 15_000, 'every acknowledged message after the move').catch(() => undefined);
  assert.deepEqual(
    [...q1, ...q2].filter((p) => !got.has(p)),
    [],
    'every acknowledged message after the move',
  );
  await new Promise((resolve) => setTimeout(resolve, (REDELIVERY_S + 1) * 1000));
  for (const p of q2) assert.equal(got.get(p), 1, `${p} (QoS 2) exactly once`);
});

test('a QoS 2 PUBLISH sent again through another node after its node died before PUBREC is delivered once', async (t) => {
  const got = new Map<string, number>();
  const sub = await countingClient(t, [c], { clientId: clientId('dq-in-sub'), clean: false, properties: { sessionExpiryInterval: 300 } }, got);
  await sub.subscribeAsync('dqi/#', { qos: 2 });
  const d = await clusterNode('dq-d', natsUrls(natsServers), NODE_ARGS);
  t.after(() => d.dispose());
  await waitForLog(d, (l) => l['msg'] === FEED_READY, 'the journal feed on node D', 60_000);
  // A device with a persistent session publishes QoS 2 on node D; its PUBREC never reaches it (D dies).
  const id = clientId('dq-in-pub');
  const first = await rawClient(t, d.port, 5);
  await first.handshake({ clientId: id, props: [[Prop.SessionExpiryInterval, 300]] });
  first.send(publishPacket({ version: 5, topic: 'dqi/x', payload: 'once', qos: 2, packetId: 7 }));
  await waitFor(() => got.has('once'), 10_000, 'the message on node C');
  await d.kill9();
  // It connects to node B, resumes its session and sends the PUBLISH again (DUP), then releases it.
  const second = await rawClient(t, b.port, 5);
  await second.handshake({ clientId: id, clean: false, props: [[Prop.SessionExpiryInterval, 300]] });
  second.send(publishPacket({ version: 5, topic: 'dqi/x', payload: 'once', qos: 2, packetId: 7, dup: true }));
  assert.equal(parseAck(await second.nextOf(PacketType.PUBREC, 10_000)).packetId, 7);
  second.send(ackPacket(PacketType.PUBREL, 7));
  assert.equal(parseAck(await second.nextOf(PacketType.PUBCOMP, 10_000)).packetId, 7);
  // A new message under the same packet id is a new message.
  second.send(publishPacket({ version: 5, topic: 'dqi/x', payload: 'again', qos: 2, packetId: 7 }));
  await second.nextOf(PacketType.PUBREC, 10_000);
  second.send(ackPacket(PacketType.PUBREL, 7));
  await waitFor(() => got.has('again'), 10_000, 'the new message under the same packet id');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(got.get('once'), 1, 'the resent PUBLISH was not delivered again');
});

test('SIGKILL of a node: its persistent subscriber resumes on a survivor with every acknowledged message, QoS 2 exactly once', async (t) => {
  const steady = new Map<string, number>();
  const onC = await countingClient(t, [c], { clientId: clientId('dq-steady'), clean: false, properties: { sessionExpiryInterval: 300 } }, steady);
  await onC.subscribeAsync('dql/#', { qos: 2 });
  const moved = new Map<string, number>();
  const moverId = clientId('dq-mover');
  const mover = await countingClient(t, [a, b, c], { clientId: moverId, clean: false, properties: { sessionExpiryInterval: 300 } }, moved);
  await mover.subscribeAsync('dql/#', { qos: 2 });
  const pubB = await countingClient(t, [b], { clientId: clientId('dq-pub-b') }, new Map());
  const pubC = await countingClient(t, [c], { clientId: clientId('dq-pub-c') }, new Map());
  await awaitRoute(pubB, mover, 'dql/probe');
  await awaitRoute(pubB, onC, 'dql/probe');
  // The client records (the mover's subscription) are written just after CONNACK and SUBACK.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const sending = Promise.all([publishNumbered(pubB, 'dql/b', 'b', 120, 1, 25), publishNumbered(pubC, 'dql/c', 'c', 120, 2, 25)]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await a.kill9();
  await waitFor(() => mover.connected, 10_000, 'the mover reconnected to node B or C');
  const [ackedB, ackedC] = await sending;
  const acked = [...ackedB, ...ackedC];

  await waitFor(() => acked.every((p) => steady.has(p)), 10_000, 'every acknowledged message on node C');
  // What node A held comes back from the journal after --cluster-redelivery.
  await waitFor(() => acked.every((p) => moved.has(p)), 20_000, 'every acknowledged message on the mover').catch(() => undefined);
  const missed = acked.filter((p) => !moved.has(p));
  console.log(`# durable node loss: ${acked.length} acknowledged, the mover missed ${missed.length}`);
  assert.deepEqual(missed, [], 'the mover got every acknowledged message');
  await new Promise((resolve) => setTimeout(resolve, (REDELIVERY_S + 1) * 1000));
  for (const p of ackedC) {
    assert.equal(steady.get(p), 1, `${p} (QoS 2) exactly once on node C`);
    assert.equal(moved.get(p), 1, `${p} (QoS 2) exactly once on the mover`);
  }
});

test('an unsubscribe removes the consumer; No Local holds for journal deliveries', async (t) => {
  const id = clientId('dq-unsub');
  const got = new Map<string, number>();
  const client = await countingClient(t, [b], { clientId: id, clean: false, properties: { sessionExpiryInterval: 300 } }, got);
  const before = (await journalConsumers()).length;
  await client.subscribeAsync('dqu/#', { qos: 1, nl: true });
  await waitForAsync(async () => (await journalConsumers()).length === before + 2, 5000, 'two consumers for dqu/# (dqu.> and dqu)');
  // Its own message is not delivered back (No Local); another client's is.
  const other = await connect(t, c.url, { protocolVersion: 5 });
  await client.publishAsync('dqu/own', 'own', { qos: 1 });
  await other.publishAsync('dqu/other', 'other', { qos: 1 });
  await waitFor(() => got.has('other'), 5000, "the other client's message");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(got.has('own'), false, 'No Local');
  await client.unsubscribeAsync('dqu/#');
  await waitForAsync(async () => (await journalConsumers()).length === before, 5000, 'its consumers deleted');
});

test('only QoS 1/2 messages a persistent session subscribes to go into the journal, on every node, until it unsubscribes', async (t) => {
  // A clean-session subscriber on C takes everything; the publisher is on B (node A is gone by now).
  const clean = new Map<string, number>();
  const cleanClient = await countingClient(t, [c], { clientId: clientId('dqr-clean'), clean: true }, clean);
  await cleanClient.subscribeAsync('dqr/#', { qos: 1 });
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  const send = async (topic: string, prefix: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await pub.publishAsync(topic, `${prefix}-${i}`, { qos: (1 + (i % 2)) as 1 | 2 });
  };
  await awaitRoute(pub, cleanClient, 'dqr/route');
  const start = await journalMessages(natsUrls(natsServers));
  await send('dqr/p/1', 'none', 20);
  await waitFor(() => clean.has('none-19'), 5000, 'the clean subscriber got the messages');
  assert.equal(await journalMessages(natsUrls(natsServers)), start, 'no persistent session wants dqr/#: nothing journaled');

  // A persistent session on C subscribes to dqr/p/#: node B learns the route and journals those messages only.
  const kept = new Map<string, number>();
  const persistent = await countingClient(t, [c], { clientId: clientId('dqr-persistent'), clean: false, properties: { sessionExpiryInterval: 300 } }, kept);
  await persistent.subscribeAsync('dqr/p/#', { qos: 1 });
  await awaitJournaled(natsUrls(natsServers), pub, 'dqr/p/probe');
  const withRoute = await journalMessages(natsUrls(natsServers));
  await send('dqr/p/1', 'kept', 20);
  await send('dqr/q/1', 'other', 20);
  await waitFor(() => kept.has('kept-19') && clean.has('other-19'), 5000, 'both subscribers got their messages');
  assert.equal((await journalMessages(natsUrls(natsServers))) - withRoute, 20, 'the 20 messages on dqr/p/1 journaled, not those on dqr/q/1');
  assert.equal(kept.size, 20, 'the persistent session got each of its messages once');
  for (const [p, n] of kept) assert.equal(n, 1, `${p} once`);

  // Its unsubscribe removes the route everywhere: nothing more is journaled.
  await persistent.unsubscribeAsync('dqr/p/#');
  await waitForAsync(
    async () => {
      const before = await journalMessages(natsUrls(natsServers));
      await pub.publishAsync('dqr/p/probe', `probe-after-${Date.now()}`, { qos: 1 });
      return (await journalMessages(natsUrls(natsServers))) === before;
    },
    5000,
    'node B stops journaling dqr/p/#',
  );
  const after = await journalMessages(natsUrls(natsServers));
  await send('dqr/p/1', 'gone', 20);
  await waitFor(() => clean.has('gone-19'), 5000, 'the clean subscriber got the last messages');
  assert.equal(await journalMessages(natsUrls(natsServers)), after, 'nothing journaled after the unsubscribe');
});

test("a persistent session's new QoS 1 subscription is acknowledged once the other nodes journal its topic (--cluster-route-wait)", async (t) => {
  // Node A is gone by now: the subscriber is on C, the publisher on B. Each SUBACK of a new
  // filter must come only after node B knows its durable route, so a message B takes right after
  // it is journaled (without the wait it takes the core path for a few ms: not kept if C died then).
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  const sub = await countingClient(t, [c], { clientId: clientId('drw'), clean: false, properties: { sessionExpiryInterval: 300 } }, new Map());
  const urls = natsUrls(natsServers);
  const rounds = 10;
  const start = await journalMessages(urls);
  for (let i = 0; i < rounds; i++) {
    await sub.subscribeAsync(`drw/${i}/#`, { qos: 1 });
    await pub.publishAsync(`drw/${i}/x`, `drw-${i}`, { qos: 1 });
  }
  assert.equal((await journalMessages(urls)) - start, rounds, 'each message published right after a SUBACK was journaled');
});

test('a record JetStream stored twice (nats-server before 2.11, in a leader election) reaches a QoS 2 subscriber once; a QoS 1 one too', async (t) => {
  const got = new Map<string, number>();
  const sub = await countingClient(t, [c], { clientId: clientId('dq-twice'), clean: false, properties: { sessionExpiryInterval: 300 } }, got);
  await sub.subscribeAsync('dqd/#', { qos: 2 });
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  await awaitFeed(pub, 'dqd/ready', got);
  // What a leader election does to a write on nats-server 2.9/2.10: one record id, two sequences.
  // A duplicate window shorter than the gap between the two writes lets the test store it twice.
  const nc = await natsConnect({ servers: natsUrls(natsServers).split(',') });
  const jsm = await jetstreamManager(nc);
  const config = (await jsm.streams.info('JUNCTION_JOURNAL')).config;
  const window = config.duplicate_window;
  t.after(async () => {
    await jsm.streams.update('JUNCTION_JOURNAL', { ...config, duplicate_window: window }).catch(() => undefined);
    await nc.close();
  });
  await jsm.streams.update('JUNCTION_JOURNAL', { ...config, duplicate_window: 100_000_000 });
  const js = jsm.jetstream();
  const seqs: number[] = [];
  const run = Date.now().toString(36);
  for (const [payload, qos] of [
    ['twice-2', '2'],
    ['twice-1', '1'],
  ] as const) {
    for (let copy = 0; copy < 2; copy++) {
      const h = natsHeaders();
      h.set('Junction-QoS', qos);
      h.set('Junction-Time', String(Date.now()));
      seqs.push((await js.publish('$JUNCTION.j.dqd.x', payload, { headers: h, msgID: `dq-twice-${payload}-${run}` })).seq);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  assert.equal(new Set(seqs).size, 4, 'JetStream stored each record twice, under two sequences');
  await waitFor(() => got.has('twice-2') && got.has('twice-1'), 10_000, 'both records');
  await new Promise((resolve) => setTimeout(resolve, (REDELIVERY_S + 1) * 1000));
  assert.equal(got.get('twice-2'), 1, 'the QoS 2 record once');
  assert.equal(got.get('twice-1'), 1, 'the QoS 1 record once');
});

test('SIGKILL of the NATS server a publishing node uses: the persistent subscriber gets every acknowledged message from the journal, QoS 2 once', async (t) => {
  const got = new Map<string, number>();
  const sub = await countingClient(t, [c], { clientId: clientId('dq-nsub'), clean: false, properties: { sessionExpiryInterval: 300 } }, got);
  await sub.subscribeAsync('dqn/#', { qos: 2 });
  const pub = await countingClient(t, [b], { clientId: clientId('dq-npub') }, new Map());
  await awaitRoute(pub, sub, 'dqn/probe');
  // The subscriber's consumers read the journal before the stream starts (a QoS 1 message goes through them).
  await awaitFeed(pub, 'dqn/ready', got);
  const sending = Promise.all([publishNumbered(pub, 'dqn/q1', 'n1', 100, 1, 20), publishNumbered(pub, 'dqn/q2', 'n2', 100, 2, 20)]);
  await new Promise((resolve) => setTimeout(resolve, 600));
  // Node B's own NATS server: B moves to another; JetStream elects new leaders where it led.
  await natsServers[1]!.halt('SIGKILL');
  const [q1, q2] = await sending;
  const acked = [...q1, ...q2];
  await waitFor(() => acked.every((p) => got.has(p)), 30_000, 'every acknowledged message').catch(() => undefined);
  const lost = acked.filter((p) => !got.has(p));
  console.log(`# durable NATS server loss: ${acked.length} acknowledged, ${lost.length} not delivered`);
  assert.deepEqual(lost, [], 'every acknowledged message delivered');
  await new Promise((resolve) => setTimeout(resolve, (REDELIVERY_S + 1) * 1000));
  for (const p of q2) assert.equal(got.get(p), 1, `${p} (QoS 2) exactly once`);
});
