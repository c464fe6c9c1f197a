/**
 * A node that loses NATS: it keeps serving its local clients (shared groups included), logs the
 * loss, reconnects when NATS is back and takes up its interest, also what was subscribed while
 * NATS was away.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { collect, connect, type Broker } from '../interop/harness.js';
import { awaitRoute, clusterNodes, natsUrls, waitForLog } from './helpers.js';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
});

test('a node that loses NATS serves its local clients, reconnects with backoff and resubscribes its interest', async (t) => {
  const nats = await ServiceProcess.nats();
  cleanup.push(() => nats.stop());
  const args = ['--store', 'memory', '--cluster-reconnect-max', '1'];
  const [a, b] = (await clusterNodes(['loss-a', 'loss-b'], natsUrls([nats]), args)) as [Broker, Broker];
  cleanup.push(
    () => a.dispose(),
    () => b.dispose(),
  );
  const subA = await connect(t, a.url, { protocolVersion: 5 });
  await subA.subscribeAsync('l/#', { qos: 1 });
  const pubB = await connect(t, b.url, { protocolVersion: 5 });
  await awaitRoute(pubB, subA, 'l/probe');

  const from = a.logs.length;
  await nats.halt();
  await waitForLog(a, (l) => l['msg'] === 'cluster NATS connection lost; serving local clients and reconnecting', 'node A logs the loss', 10_000, from);

  // Alone, node A is a standalone broker: plain and shared subscriptions are served locally.
  const member = await connect(t, a.url, { protocolVersion: 5 });
  await member.subscribeAsync('$share/g/jobs/#', { qos: 1 });
  const pubA = await connect(t, a.url, { protocolVersion: 5 });
  const local = collect(subA, 1, 3000, 'a local message while NATS is away');
  const job = collect(member, 1, 3000, 'a shared-group message while NATS is away');
  await pubA.publishAsync('l/local', 'still served', { qos: 1 });
  await pubA.publishAsync('jobs/1', 'job', { qos: 1 });
  assert.equal((await local)[0]!.payload.toString(), 'still served');
  assert.equal((await job)[0]!.payload.toString(), 'job');

  // Interest taken while NATS is away reaches it once it is back.
  const subLater = await connect(t, a.url, { protocolVersion: 5 });
  await subLater.subscribeAsync('m/#', { qos: 1 });
  const back = a.logs.length;
  await nats.restart();
  await waitForLog(a, (l) => l['msg'] === 'cluster NATS reconnected; interest subscribed again', 'node A reconnects', 15_000, back);
  await awaitRoute(pubB, subLater, 'm/probe', 15_000);
  await awaitRoute(pubB, subA, 'l/probe', 15_000);
});
