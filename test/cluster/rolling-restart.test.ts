/**
 * A rolling restart: node A stops cleanly (SIGTERM) while a client with a persistent session on
 * it is offline. Node B keeps that session while A is away, so what is published meanwhile is
 * queued on B; when A is back (with its data) and the client reconnects to A, it gets what A had
 * queued before the stop and what B queued during it, each once.
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
  [a, b] = await Promise.all([clusterNode('roll-a', natsUrls([nats])), clusterNode('roll-b', natsUrls([nats]), ['--store', 'memory'])]);
});

after(async () => {
  if (process.env['CLUSTER_LOGS'] !== undefined) for (const n of [a, b]) for (const l of n?.logs ?? []) console.log(JSON.stringify(l));
  await Promise.all([a?.dispose(), b?.dispose()]);
  await nats?.stop();
});

test('a persistent session survives a clean restart of its node: messages published while it was away are kept by another node', async (t) => {
  const id = clientId('roller');
  const opts = { protocolVersion: 5 as const, clean: false, clientId: id, properties: { sessionExpiryInterval: 600 } };
  const first = await connect(t, a.url, opts);
  await first.subscribeAsync('roll/#', { qos: 1 });
  const pub = await connect(t, b.url, { protocolVersion: 5 });
  await awaitRoute(pub, first, 'roll/probe');
  first.end(true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await pub.publishAsync('roll/x', 'before-stop', { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 300));

  const from = b.logs.length;
  await a.stop();
  await waitForLog(b, (l) => l['msg'] === 'cluster clients of a node that is gone taken over' && l['why'] === 'left', 'node B keeps the sessions of node A', 15_000, from);
  await pub.publishAsync('roll/x', 'during-1', { qos: 1 });
  await pub.publishAsync('roll/x', 'during-2', { qos: 2 });

  await a.restart();
  await waitForLog(a, (l) => l['msg'] === 'cluster node started', 'node A back', 20_000);
  const got: string[] = [];
  const again = mqtt.connect(a.url, { ...opts, reconnectPeriod: 0 });
  t.after(() => closeClient(again));
  again.on('message', (_topic, payload) => {
    if (!isProbe(payload)) got.push(payload.toString());
  });
  again.on('error', () => undefined);
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => again.once('connect', resolve));
  assert.equal(connack.sessionPresent, true);
  await waitFor(() => ['before-stop', 'during-1', 'during-2'].every((p) => got.includes(p)), 10_000, 'what was queued before and during the stop');
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.deepEqual([...got].sort(), ['before-stop', 'during-1', 'during-2']);
});
