/**
 * Retained messages in a cluster of three nats-servers (JetStream, three replicas): the same on
 * every Junction node, cleared everywhere (by an empty retained message or the admin API's
 * delete), and still there after a NATS server and a Junction node are gone, for a node that
 * joins afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { connect, startBroker, type Broker } from '../interop/harness.js';
import { call, TOKEN } from '../admin/admin-broker.js';
import { jetStreamReady, natsUrls, waitForLog } from './helpers.js';

let servers: ServiceProcess[] = [];
const nodes: Broker[] = [];

before(async () => {
  servers = await ServiceProcess.natsCluster(3);
  await jetStreamReady(natsUrls(servers));
});

/** A node of this test, disposed of after it even when a later step fails. */
async function node(name: string, urls: string, args: string[]): Promise<Broker> {
  const started = startBroker({ args: ['--node-name', name, '--cluster', urls, '--cluster-heartbeat', '1', ...args] });
  const n = await started;
  nodes.push(n);
  await waitForLog(n, (l) => l['msg'] === 'cluster node started', `node ${name} started in the cluster`);
  return n;
}

after(async () => {
  await Promise.all(nodes.map((n) => n.dispose()));
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
});

/** The retained messages a new subscriber to `filter` on `node` receives: topic -> [payload, content type]. */
async function retainedOn(node: Broker, filter: string): Promise<Map<string, [string, unknown]>> {
  const client = await connect(null, node.url, { protocolVersion: 5 });
  const got = new Map<string, [string, unknown]>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) got.set(topic, [payload.toString(), packet.properties?.contentType]);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await client.endAsync();
  return got;
}

/** Polls until `node` holds exactly `expected` retained under `filter`, for up to `timeoutMs`. */
async function expectRetained(node: Broker, filter: string, expected: Record<string, [string, unknown]>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = new Map<string, [string, unknown]>();
  for (;;) {
    last = await retainedOn(node, filter);
    try {
      assert.deepEqual(Object.fromEntries([...last].sort()), expected);
      return;
    } catch (err) {
      if (Date.now() > until) {
        const lines = nodes.flatMap((n) => n.logs.filter((l) => l['component'] === 'cluster').slice(-20));
        throw new Error(`${what}: ${(err as Error).message}\ncluster log lines:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      }
    }
  }
}

test('retained messages: the same on every node, cleared everywhere, kept through the loss of a NATS server and of a node', async () => {
  const urls = natsUrls(servers);
  const args = ['--store', 'memory', '--cluster-connect-timeout', '30', '--cluster-reconnect-max', '1'];
  const a = await node('ret-a', urls, args);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-cluster-'));
  const tokenFile = path.join(dir, 'admin.token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const b = await node('ret-b', urls, [...args, '--admin-port', '0', '--admin-token-file', tokenFile]);
  const pubA = await connect(null, a.url, { protocolVersion: 5 });
  await pubA.publishAsync('cfg/1', 'one', { qos: 1, retain: true, properties: { contentType: 'text/plain' } });
  await pubA.publishAsync('cfg/2', 'two', { qos: 1, retain: true });
  await expectRetained(b, 'cfg/#', { 'cfg/1': ['one', 'text/plain'], 'cfg/2': ['two', undefined] }, 'node B holds what node A retained');

  // A burst of updates of one topic: every node ends with the last one.
  for (let i = 1; i <= 100; i++) pubA.publish('cfg/burst', `v${i}`, { qos: 0, retain: true });
  await pubA.publishAsync('cfg/burst', 'last', { qos: 1, retain: true });
  await expectRetained(a, 'cfg/burst', { 'cfg/burst': ['last', undefined] }, 'node A keeps its last update');
  await expectRetained(b, 'cfg/burst', { 'cfg/burst': ['last', undefined] }, 'node B ends with the last update');
  await pubA.publishAsync('cfg/burst', '', { qos: 1, retain: true });

  const pubB = await connect(null, b.url, { protocolVersion: 5 });
  await pubB.publishAsync('cfg/2', '', { qos: 1, retain: true });
  await expectRetained(a, 'cfg/#', { 'cfg/1': ['one', 'text/plain'] }, 'node B cleared cfg/2 on node A too');

  const nc = await natsConnect({ servers: urls.split(',') });
  const info = await (await jetstreamManager(nc)).streams.info('JUNCTION_RETAINED');
  assert.equal(info.config.num_replicas, 3, 'three replicas on three NATS servers');
  assert.equal(info.config.max_msgs_per_subject, 1);
  await nc.close();

  await servers[0]!.halt();
  await pubB.publishAsync('cfg/3', 'three', { qos: 1, retain: true });
  // JetStream elects new leaders for the stream and its consumers (about 7 s here when the
  // machine is quiet; several times that when it is loaded): the follower retries meanwhile.
  await expectRetained(a, 'cfg/#', { 'cfg/1': ['one', 'text/plain'], 'cfg/3': ['three', undefined] }, 'written and shared with a NATS server down', 60_000);
  await pubA.endAsync();
  await pubB.endAsync();

  await a.kill9();
  // JetStream may still be electing new leaders: node C serves at once and loads the retained messages when it can.
  const c = await node('ret-c', natsUrls(servers.slice(1)), [...args, '--cluster-connect-timeout', '3']);
  await expectRetained(c, 'cfg/#', { 'cfg/1': ['one', 'text/plain'], 'cfg/3': ['three', undefined] }, 'a node that joins later loads them from NATS', 60_000);

  // An operator's delete through the admin API of one node clears the topic on the others.
  const admin = `http://127.0.0.1:${b.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'admin')!['port']}`;
  assert.equal((await call(admin, 'DELETE', '/api/v1/retained/cfg/3')).status, 204);
  await expectRetained(c, 'cfg/#', { 'cfg/1': ['one', 'text/plain'] }, "node B's admin delete reaches node C");
  rmSync(dir, { recursive: true, force: true });
});
