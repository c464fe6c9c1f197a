/**
 * --no-cluster-durable-qos: a node killed with messages queued for an offline persistent session (in its LMDB store): the
 * client reconnects to another node, which rebuilds the session from the cluster record; when
 * the killed node restarts with its data, it hands what it had queued to the session's new node
 * and keeps no copy, so the client gets those messages too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { clientId, closeClient, connect, waitFor, type Broker } from '../interop/harness.js';
import { awaitRoute, clusterNode, isProbe, natsUrls, waitForLog } from './helpers.js';

let nats: ServiceProcess;
let a: Broker;
let b: Broker;

before(async () => {
  nats = await ServiceProcess.nats();
  // Node A keeps its sessions in LMDB (the default store); B in memory.
  // Without durable QoS (on by default), where a session's queue lives in its node's store alone.
  const args = ['--no-cluster-durable-qos'];
  [a, b] = await Promise.all([clusterNode('keep-a', natsUrls([nats]), args), clusterNode('keep-b', natsUrls([nats]), ['--store', 'memory', ...args])]);
});

after(async () => {
  if (process.env['CLUSTER_LOGS'] !== undefined) for (const n of [a, b]) for (const l of n?.logs ?? []) console.log(JSON.stringify(l));
  await Promise.all([a?.dispose(), b?.dispose()]);
  await nats?.stop();
});

test('messages queued on a killed node reach the client on another node once the killed node restarts with its data', async (t) => {
  const id = clientId('keeper');
  const opts = { protocolVersion: 5 as const, clean: false, clientId: id, properties: { sessionExpiryInterval: 600 } };
  const first = await connect(t, a.url, opts);
  await first.subscribeAsync('keep/#', { qos: 1 });
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  await awaitRoute(pub, first, 'keep/probe');
  first.end(true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Queued on node A for the offline session (and stored in its LMDB before B acknowledged... B only knows NATS has them).
  for (const p of ['held-1', 'held-2', 'held-3']) await pub.publishAsync('keep/x', p, { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await a.kill9();

  // Back on node B: the session comes from the record (its subscription), A's queue is out of reach.
  const got: string[] = [];
  const again = mqtt.connect(b.url, { ...opts, reconnectPeriod: 0 });
  t.after(() => closeClient(again));
  again.on('message', (_topic, payload) => {
    if (!isProbe(payload)) got.push(payload.toString());
  });
  again.on('error', () => undefined);
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => again.once('connect', resolve));
  assert.equal(connack.sessionPresent, true, 'the session was rebuilt from the cluster record');
  await pub.publishAsync('keep/x', 'after', { qos: 1 });
  await waitFor(() => got.includes('after'), 5000, 'a new message on the rebuilt session');

  // Node A restarts with its data: it hands its queue to node B and drops its copy.
  await a.restart();
  await waitForLog(a, (l) => l['msg'] === 'cluster session dropped here: another node took the client id meanwhile' && l['clientId'] === id, 'node A yields the session', 20_000);
  await waitForLog(b, (l) => l['msg'] === 'cluster session leftovers taken from another node' && l['clientId'] === id, 'node B takes the leftovers', 10_000);
  await waitFor(() => ['held-1', 'held-2', 'held-3'].every((p) => got.includes(p)), 5000, 'the messages node A had queued');
  assert.deepEqual(
    got.filter((p) => p.startsWith('held')),
    ['held-1', 'held-2', 'held-3'],
  );
});
