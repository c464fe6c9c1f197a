/**
 * A node cut off from NATS keeps serving its clients; a client that meanwhile connects with the
 * same client id on another node gets its session there (rebuilt from the cluster record), and
 * when the first node is back it yields: its old connection ends with 0x8E, as a takeover.
 * Three nats-servers in one NATS cluster (JetStream keeps its quorum without one); node A reaches
 * only the first, node B only the second.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { clientId, collect, connect, waitFor, type Broker } from '../interop/harness.js';
import { awaitRoute, clusterNode, natsUrls, waitForLog } from './helpers.js';

let natsServers: ServiceProcess[];
let a: Broker;
let b: Broker;

before(async () => {
  // --no_advertise: a node knows only the server it was given, so halting that one cuts it off.
  natsServers = await ServiceProcess.natsCluster(3, ['--no_advertise']);
  const args = ['--store', 'memory', '--cluster-reconnect-max', '1', '--cluster-connect-timeout', '5', '--cluster-takeover-timeout', '1'];
  [a, b] = await Promise.all([clusterNode('cut-a', natsUrls([natsServers[0]!]), args), clusterNode('cut-b', natsUrls([natsServers[1]!]), args)]);
  // JetStream elects the client registry's leader a moment after three fresh servers start.
  await Promise.all([a, b].map((n) => waitForLog(n, (l) => l['msg'] === 'cluster client registry ready', 'the client registry', 20_000)));
});

after(async () => {
  if (process.env['CLUSTER_LOGS'] !== undefined) for (const n of [a, b]) for (const l of n?.logs ?? []) console.log(JSON.stringify(l));
  await Promise.all([a?.dispose(), b?.dispose()]);
  await Promise.all((natsServers ?? []).map((s) => s.stop().catch(() => undefined)));
});

test('a client id taken on another node while its node was cut off from NATS: the cut-off node yields when it is back', async (t) => {
  const id = clientId('split');
  const opts = { protocolVersion: 5 as const, clean: false, clientId: id, properties: { sessionExpiryInterval: 300 } };
  const onA = await connect(t, a.url, opts);
  await onA.subscribeAsync('split/#', { qos: 1 });
  const pubB = await connect(t, b.url, { protocolVersion: 5 });
  await awaitRoute(pubB, onA, 'split/probe', 15_000);
  // The record names node A with the subscription.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const from = a.logs.length;
  await natsServers[0]!.halt();
  await waitForLog(a, (l) => l['msg'] === 'cluster NATS connection lost; serving local clients and reconnecting', 'node A cut off', 10_000, from);
  // Still served locally.
  const pubA = await connect(t, a.url, { protocolVersion: 5 });
  const local = collect(onA, 1, 3000, 'a local message on node A while cut off');
  await pubA.publishAsync('split/local', 'alone', { qos: 1 });
  assert.equal((await local)[0]!.payload.toString(), 'alone');

  // The same client id on node B: node A cannot answer, B rebuilds the session from the record.
  let reason = -1;
  onA.on('disconnect', (p) => {
    reason = p.reasonCode ?? -1;
  });
  const onB = await connect(t, b.url, opts);
  await waitForLog(b, (l) => l['msg'] === 'cluster session rebuilt from its record: its node did not hand it over' && l['clientId'] === id, 'node B rebuilt the session');
  // Its subscription came with the record: no SUBSCRIBE on node B. The persistent session reads its QoS 1
  // messages from the journal, which answers once JetStream has elected new leaders where the halted server led.
  const viaB = collect(onB, 1, 30_000, 'a message on the rebuilt session');
  await pubB.publishAsync('split/b', 'on-b', { qos: 1 });
  assert.equal((await viaB)[0]!.payload.toString(), 'on-b');
  assert.equal(reason, -1, 'node A cannot know yet');

  // NATS back: node A sees the record names node B and ends its own connection as a takeover.
  await natsServers[0]!.restart();
  await waitForLog(a, (l) => l['msg'] === 'cluster session dropped here: another node took the client id meanwhile' && l['clientId'] === id, 'node A yields', 20_000);
  await waitFor(() => reason !== -1, 5000, 'the DISCONNECT on node A');
  assert.equal(reason, 0x8e);
  assert.ok(onB.connected, 'the connection on node B stays');
});
