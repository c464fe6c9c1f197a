/**
 * Two Junction nodes joined through one nats-server: a client on either node receives what it
 * subscribed to from the other, at QoS 0, 1 and 2, with wildcards and MQTT 5 properties, once
 * however its filters overlap; shared groups span the nodes; STOMP and JT/T 808 clients take
 * part, and a GB/T 32960 vehicle; NATS clients read and write the same messages on the mapped subjects; GET
 * /api/v1/nodes shows both nodes and a node that died.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect as natsConnect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { connect, type Broker, type MqttClient } from '../interop/harness.js';
import { RawStomp } from '../protocols/stomp/helpers.js';
import { jt808Port, onlineTerminal, testPhone } from '../protocols/jt808/helpers.js';
import { call, TOKEN } from '../admin/admin-broker.js';
import { hex, gbtPort, VECTORS, Vehicle, VIN } from '../protocols/gbt32960/helpers.js';
import { awaitRoute, clusterNodes, isProbe, natsUrls, waitForLog } from './helpers.js';

let nats: ServiceProcess;
let a: Broker;
let b: Broker;
let dir: string;
let closeHook: () => void;

before(async () => {
  nats = await ServiceProcess.nats();
  dir = mkdtempSync(path.join(os.tmpdir(), 'junction-cluster-'));
  const tokenFile = path.join(dir, 'admin.token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  // GB/T 32960 vehicles log in through an authentication hook; this one admits every client.
  const hook = await allowAll();
  closeHook = hook.close;
  const args = ['--store', 'memory', '--stomp-port', '0', '--jt808-port', '0', '--gbt32960-port', '0', '--auth-http-url', hook.url, '--allow-anonymous'];
  args.push('--admin-port', '0', '--admin-token-file', tokenFile);
  [a, b] = (await clusterNodes(['node-a', 'node-b'], natsUrls([nats]), args)) as [Broker, Broker];
});

after(async () => {
  await Promise.all([a?.dispose(), b?.dispose()]);
  await nats?.stop();
  closeHook?.();
  rmSync(dir, { recursive: true, force: true });
});

/** An HTTP authentication hook that allows every client. */
async function allowAll(): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"result":"allow"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

interface Got {
  topic: string;
  payload: string;
  qos: number;
  properties: Record<string, unknown> | undefined;
}

/** Collects what `client` receives, probes left out. */
function received(client: MqttClient): Got[] {
  const got: Got[] = [];
  client.on('message', (topic, payload, packet) => {
    if (!isProbe(payload)) got.push({ topic, payload: payload.toString(), qos: packet.qos, properties: packet.properties as Record<string, unknown> | undefined });
  });
  return got;
}

async function settle(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Long enough for a duplicate to arrive if one were coming.
  await new Promise((resolve) => setTimeout(resolve, 400));
}

test('QoS 0, 1 and 2 cross the cluster with wildcards; overlapping filters on either node deliver once', async (t) => {
  const onB = await connect(t, b.url, { protocolVersion: 5 });
  await onB.subscribeAsync(['r1/+/t', 'r1/#', 'r1/x/+'], { qos: 2 });
  const onA = await connect(t, a.url, { protocolVersion: 5 });
  await onA.subscribeAsync(['r1/#', 'r1/+/t'], { qos: 2 });
  const pub = await connect(t, a.url, { protocolVersion: 5 });
  await awaitRoute(pub, onB, 'r1/x/t');
  const gotB = received(onB);
  const gotA = received(onA);
  await pub.publishAsync('r1/x/t', 'q0', { qos: 0 });
  await pub.publishAsync('r1/x/t', 'q1', { qos: 1 });
  await pub.publishAsync('r1/x/t', 'q2', { qos: 2 });
  await pub.publishAsync('r1/other', 'plain', { qos: 1 });
  await settle(() => gotB.length >= 4 && gotA.length >= 4, 'four messages on each node');
  const summary = (got: Got[]) => got.map((g) => `${g.topic} ${g.payload} qos${g.qos}`).sort();
  const expected = ['r1/other plain qos1', 'r1/x/t q0 qos0', 'r1/x/t q1 qos1', 'r1/x/t q2 qos2'];
  assert.deepEqual(summary(gotB), expected, 'the other node: each message once, at its QoS');
  assert.deepEqual(summary(gotA), expected, "the publisher's node: each message once, not again from NATS");
});

test('overlapping filters added and removed after messages crossed: still once, never twice, never lost', async (t) => {
  const onB = await connect(t, b.url, { protocolVersion: 5 });
  await onB.subscribeAsync('r2/x', { qos: 0 });
  const pub = await connect(t, a.url, { protocolVersion: 5 });
  await awaitRoute(pub, onB, 'r2/x');
  const got = received(onB);
  const step = async (payload: string): Promise<void> => {
    const before = got.length;
    await pub.publishAsync('r2/x', payload, { qos: 1 });
    await settle(() => got.length > before, payload);
  };
  await step('one filter');
  // The node remembers which of its filters lets 'r2/x' through; a new overlapping filter and
  // the removal of the first must not leave that answer stale.
  await onB.subscribeAsync('r2/+', { qos: 0 });
  await awaitRoute(pub, onB, 'r2/x');
  await step('two filters');
  await onB.unsubscribeAsync('r2/x');
  await awaitRoute(pub, onB, 'r2/x');
  await step('the second filter only');
  assert.deepEqual(
    got.map((g) => g.payload),
    ['one filter', 'two filters', 'the second filter only'],
  );
});

test('MQTT 5 properties cross the cluster intact; the expiry counts down', async (t) => {
  const onB = await connect(t, b.url, { protocolVersion: 5 });
  await onB.subscribeAsync('p1/#', { qos: 1 });
  const pub = await connect(t, a.url, { protocolVersion: 5 });
  await awaitRoute(pub, onB, 'p1/probe');
  const got = received(onB);
  await pub.publishAsync('p1/dev', Buffer.from('{"v":1}'), {
    qos: 1,
    properties: {
      payloadFormatIndicator: true,
      contentType: 'application/json',
      responseTopic: 'p1/reply/dev',
      correlationData: Buffer.from([0, 1, 2, 255]),
      userProperties: { site: 'north', tag: ['x', 'y'] },
      messageExpiryInterval: 60,
    },
  });
  await settle(() => got.length >= 1, 'the message on node B');
  assert.equal(got.length, 1);
  const p = got[0]!.properties!;
  assert.equal(p['payloadFormatIndicator'], true);
  assert.equal(p['contentType'], 'application/json');
  assert.equal(p['responseTopic'], 'p1/reply/dev');
  assert.deepEqual(p['correlationData'], Buffer.from([0, 1, 2, 255]));
  assert.deepEqual({ ...(p['userProperties'] as object) }, { site: 'north', tag: ['x', 'y'] });
  const expiry = p['messageExpiryInterval'] as number;
  assert.ok(expiry <= 60 && expiry >= 55, `remaining expiry ${expiry} s`);
});

test('a shared subscription spans the nodes: each message reaches one member of the group, cluster-wide', async (t) => {
  const memberA = await connect(t, a.url, { protocolVersion: 5 });
  await memberA.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
  const memberB = await connect(t, b.url, { protocolVersion: 5 });
  await memberB.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
  const watcher = await connect(t, b.url, { protocolVersion: 5 });
  await watcher.subscribeAsync('jobs/+', { qos: 1 });
  const pub = await connect(t, a.url, { protocolVersion: 5 });
  await awaitRoute(pub, watcher, 'jobs/probe');
  const gotA = received(memberA);
  const gotB = received(memberB);
  const all = received(watcher);
  for (let i = 0; i < 20; i++) await pub.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
  await settle(() => gotA.length + gotB.length >= 20 && all.length >= 20, '20 jobs in the group and at the watcher');
  const jobs = [...gotA, ...gotB].map((g) => g.payload).sort();
  assert.deepEqual(jobs, Array.from({ length: 20 }, (_, i) => `job ${i}`).sort(), 'each job once in the group');
  assert.ok(gotA.length > 0 && gotB.length > 0, `both members took jobs (node A ${gotA.length}, node B ${gotB.length})`);
  assert.equal(all.length, 20, 'a plain subscriber still gets every job once');
});

test('a STOMP subscriber and a JT/T 808 terminal on node B get what MQTT clients publish on node A', async (t) => {
  const stompPort = b.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp')!['port'] as number;
  const stomp = await RawStomp.connect(t, stompPort);
  await stomp.request('SUBSCRIBE', { id: 's1', destination: 'st/+' });
  const pub = await connect(t, a.url, { protocolVersion: 5 });
  // Until NATS carries node B's interest, a message may find no one there.
  for (let i = 0; ; i++) {
    pub.publish('st/probe', `probe-${i}`);
    if ((await stomp.quiet(150)) === false) break;
    assert.ok(i < 60, 'no probe reached the STOMP subscriber on node B');
  }
  await pub.publishAsync('st/1', 'to stomp', { qos: 1, properties: { contentType: 'text/plain' } });
  const m = await stomp.take((f) => f.command === 'MESSAGE' && f.body.toString() === 'to stomp', 'the MESSAGE from node A', 5000);
  assert.equal(m.header('destination'), 'st/1');
  assert.equal(m.header('content-type'), 'text/plain');

  const phone = testPhone(151);
  const term = await onlineTerminal(t, await jt808Port(b), phone);
  const command = JSON.stringify({ header: { msg_id: 0x8300 }, body: { flag: 1, text_type: 1, text: 'from node A' } });
  let text: Awaited<ReturnType<typeof term.expect>> | null = null;
  for (let i = 0; text === null; i++) {
    assert.ok(i < 30, 'no command reached the terminal on node B');
    pub.publish(`jt808/${phone}/${phone}/dn`, command, { qos: 1 });
    text = await term.expect('8300', (r) => r.header['msg_id'] === 0x8300, 300).catch(() => null);
  }
  assert.equal(text.body['text'], 'from node A');
});

test('a GB/T 32960 vehicle on node B: its login reaches a backend on node A, whose Query reaches the vehicle', async (t) => {
  const backend = await connect(t, a.url, { protocolVersion: 5 });
  await backend.subscribeAsync('gbt32960/+/upstream/#', { qos: 1 });
  const onB = await connect(t, b.url, { protocolVersion: 5 });
  await awaitRoute(onB, backend, 'gbt32960/probe/upstream/x');
  const got = received(backend);
  const vehicle = await Vehicle.connect(t, gbtPort(b));
  vehicle.send(hex(VECTORS.login));
  assert.equal((await vehicle.next(0x01)).flag, 0x01, 'login answered with success');
  await settle(() => got.some((g) => g.topic === `gbt32960/${VIN}/upstream/vlogin`), 'vlogin on node A');
  const query = JSON.stringify({ Action: 'Query', Total: 1, Ids: ['0x01'] });
  for (let i = 0; ; i++) {
    assert.ok(i < 30, 'no Query reached the vehicle on node B');
    backend.publish(`gbt32960/${VIN}/dnstream`, query, { qos: 1 });
    const frame = await vehicle.next(0x80, 300).catch(() => null);
    if (frame !== null) {
      assert.deepEqual(frame.data.subarray(6), Buffer.from([1, 1]));
      break;
    }
  }
});

test('NATS clients publish and subscribe on the mapped subjects: raw payload, properties in headers', async (t) => {
  const nc: NatsConnection = await natsConnect({ servers: `nats://127.0.0.1:${nats.port}` });
  t.after(() => nc.close());
  // NATS to MQTT
  const onB = await connect(t, b.url, { protocolVersion: 5 });
  await onB.subscribeAsync('fleet/+/speed', { qos: 1 });
  const got = received(onB);
  for (let i = 0; got.length === 0; i++) {
    assert.ok(i < 50, 'nothing NATS published reached node B');
    const h = headers();
    h.set('MQTT-Content-Type', 'text/plain');
    h.set('MQTT-User-Properties', JSON.stringify([['unit', 'km/h']]));
    nc.publish('fleet.truck1.speed', '88', { headers: h });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(got[0]!.topic, 'fleet/truck1/speed');
  assert.equal(got[0]!.payload, '88');
  assert.equal(got[0]!.properties?.['contentType'], 'text/plain');
  assert.deepEqual({ ...(got[0]!.properties?.['userProperties'] as object) }, { unit: 'km/h' });

  // MQTT to NATS
  const seen: Msg[] = [];
  nc.subscribe('fleet.*.cmd', { callback: (_err, m) => void seen.push(m) });
  nc.subscribe('fleet.v1//2.>', { callback: (_err, m) => void seen.push(m) });
  await nc.flush();
  const pub = await connect(t, a.url, { protocolVersion: 5 });
  await pub.publishAsync('fleet/truck2/cmd', Buffer.from([1, 2, 3]), { qos: 1, properties: { userProperties: { by: 'ops' } } });
  await pub.publishAsync('fleet/v1.2/x', 'dotted', { qos: 0 });
  await settle(() => seen.length >= 2, 'two messages on NATS');
  const cmd = seen.find((m) => m.subject === 'fleet.truck2.cmd')!;
  assert.deepEqual(Buffer.from(cmd.data), Buffer.from([1, 2, 3]));
  assert.equal(cmd.headers?.get('Junction-Node'), 'node-a');
  assert.equal(cmd.headers?.get('Junction-QoS'), '1');
  assert.equal(cmd.headers?.get('MQTT-User-Properties'), '[["by","ops"]]');
  const dotted = seen.find((m) => m.subject === 'fleet.v1//2.x');
  assert.equal(dotted?.string(), 'dotted', "a '.' in a level is '//' in the subject");
  assert.equal(dotted?.headers, undefined, 'QoS 0 without properties is a plain NATS message, no headers');
});

test('GET /api/v1/nodes lists every node with its connections and NATS state; a killed node is reported lost', async (t) => {
  const onB = await connect(t, b.url, { protocolVersion: 5 });
  await onB.subscribeAsync('n1/x', { qos: 0 });
  const base = `http://127.0.0.1:${a.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'admin')!['port']}`;
  type Node = { name: string; self: boolean; status: string; connections: number; nats: { state: string }; traffic: Record<string, number> };
  const nodes = async () => ((await call(base, 'GET', '/api/v1/nodes', undefined, TOKEN)).body as { data: Node[] }).data;
  let list: Node[] = [];
  for (let i = 0; ; i++) {
    list = await nodes();
    if ((list.find((n) => n.name === 'node-b')?.connections ?? 0) >= 1) break;
    assert.ok(i < 50, `node B with a connection in ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(
    list.map((n) => [n.name, n.self, n.status, n.nats.state]),
    [
      ['node-a', true, 'running', 'connected'],
      ['node-b', false, 'running', 'connected'],
    ],
  );
  assert.ok(list[0]!.traffic['sent']! > 0 && list[1]!.traffic['received']! > 0, `messages counted both ways: ${JSON.stringify(list.map((n) => n.traffic))}`);
  const from = a.logs.length;
  await b.kill9();
  await waitForLog(a, (l) => l['msg'] === 'cluster node lost: no heartbeat' && l['node'] === 'node-b', 'node A reports node B lost', 10_000, from);
  assert.equal((await nodes()).find((n) => n.name === 'node-b')?.status, 'lost');
});
