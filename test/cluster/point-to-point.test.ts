/**
 * Point-to-point messages across nodes: `app/p2p/{clientId}` published on node A reaches that
 * client on node B, whatever it subscribed, from MQTT, STOMP and the admin API; a device's
 * downlink right is checked as on one node; a persistent session offline on B gets them queued,
 * and a client that moved to node C after A looked it up is followed there.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { ServiceProcess } from '../../bench/lib/backend-services.js';
import { Terminal } from '../../bench/lib/jt808-terminal.js';
import { hashPassword } from '../../src/security/password-hash.js';
import { call, TOKEN } from '../admin/admin-broker.js';
import { clientId, connect, sleep, waitFor, type Broker, type MqttClient } from '../interop/harness.js';
import { jt808Port, testPhone } from '../protocols/jt808/helpers.js';
import { RawStomp } from '../protocols/stomp/helpers.js';
import { clusterNodes, natsUrls } from './helpers.js';

const PHONE = testPhone(171);
const DOWNLINK = `jt808/${PHONE}/${PHONE}/dn`;
const ACL = `
user alice
topic readwrite app/p2p/#
topic write jt808/+/+/dn

user bob
topic write app/p2p/#

user ${PHONE}
topic read ${DOWNLINK}
topic write jt808/${PHONE}/${PHONE}/up
`;

const alice = { username: 'alice', password: 'alice-pw' };
const bob = { username: 'bob', password: 'bob-pw' };
const dev = { username: 'dev', password: 'dev-pw' };

let nats: ServiceProcess;
let a: Broker;
let b: Broker;
let c: Broker;
let dir: string;

before(async () => {
  nats = await ServiceProcess.nats();
  dir = mkdtempSync(path.join(os.tmpdir(), 'junction-p2p-'));
  const users = [
    ['alice', 'alice-pw'],
    ['bob', 'bob-pw'],
    ['dev', 'dev-pw'],
    [PHONE, 'code-171'],
  ];
  const lines = await Promise.all(users.map(async ([u, p]) => `${u}:${await hashPassword(p!)}`));
  writeFileSync(path.join(dir, 'pw'), lines.join('\n') + '\n');
  writeFileSync(path.join(dir, 'acl'), ACL);
  writeFileSync(path.join(dir, 'admin.token'), `${TOKEN}\n`);
  const args = ['--store', 'memory', '--stomp-port', '0', '--jt808-port', '0', '--p2p-parent', 'app', '--password-file', path.join(dir, 'pw'), '--acl-file', path.join(dir, 'acl')];
  args.push('--admin-port', '0', '--admin-token-file', path.join(dir, 'admin.token'));
  [a, b, c] = (await clusterNodes(['p2p-a', 'p2p-b', 'p2p-c'], natsUrls([nats]), args)) as [Broker, Broker, Broker];
});

after(async () => {
  await Promise.all([a?.dispose(), b?.dispose(), c?.dispose()]);
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Got {
  topic: string;
  payload: string;
  qos: number;
  userProperties: Record<string, string | string[]> | undefined;
  correlation: string | undefined;
}

function collectAll(client: MqttClient): Got[] {
  const got: Got[] = [];
  client.on('message', (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), qos: packet.qos, userProperties: packet.properties?.userProperties, correlation: packet.properties?.correlationData?.toString() });
  });
  return got;
}

/** Waits until the async `check` holds (polled every 100 ms). */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < until, `${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A client connected with `got` collecting from before its CONNACK (a session's queue comes right after it). */
async function connectWithQueue(t: TestContext, url: string, opts: IClientOptions): Promise<{ client: MqttClient; got: Got[] }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...opts });
  t.after(() => client.end(true));
  const got = collectAll(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return { client, got };
}

/** Publishes probes from `pub` to `target`'s point-to-point topic until one arrives: its node writes its record in the registry just after the CONNACK. */
async function reachable(pub: MqttClient, target: string, got: Got[]): Promise<void> {
  for (let i = 0; ; i++) {
    const probe = `probe-${i}`;
    await pub.publishAsync(`app/p2p/${target}`, probe, { qos: 1 });
    try {
      await waitFor(() => got.some((g) => g.payload === probe), 300, 'probe');
      return;
    } catch {
      assert.ok(i < 30, `no point-to-point probe reached ${target} on the other node`);
    }
  }
}

/** A device client on node B (MQTT `version`), alice connected on node A, and a message from A proven to reach it. */
async function targetOnB(t: TestContext, name: string, version: 4 | 5): Promise<{ target: string; got: Got[]; pub: MqttClient }> {
  const target = clientId(name);
  const got = collectAll(await connect(t, b.url, { ...dev, protocolVersion: version, clientId: target }));
  const pub = await connect(t, a.url, { ...alice, protocolVersion: 5 });
  await reachable(pub, target, got);
  return { target, got, pub };
}

function adminBase(node: Broker): string {
  return `http://127.0.0.1:${node.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'admin')!['port']}`;
}

/** The traffic counters node `name` reports (GET /api/v1/nodes on `via`). */
async function traffic(via: Broker, name: string): Promise<Record<string, number>> {
  const answer = await call(adminBase(via), 'GET', '/api/v1/nodes', undefined, TOKEN);
  const nodes = (answer.body as { data: Array<{ name: string; self: boolean; traffic: Record<string, number> }> }).data;
  return nodes.find((n) => n.name === name)!.traffic;
}

test('a point-to-point message reaches its client on another node at QoS 0, 1 and 2, properties intact, once', async (t) => {
  const { target, got, pub: onA } = await targetOnB(t, 'p2p-target', 5);
  const properties = { userProperties: { trace: 'p2p-1' }, correlationData: Buffer.from('corr-1'), contentType: 'text/plain' };
  for (const qos of [0, 1, 2] as const) await onA.publishAsync(`app/p2p/${target}`, `at qos ${qos}`, { qos, properties });
  await waitFor(() => got.filter((g) => g.payload.startsWith('at qos')).length >= 3, 5000, 'the three messages on node B');
  await sleep(300);
  const mine = got.filter((g) => g.payload.startsWith('at qos'));
  assert.deepEqual(
    mine.map((g) => [g.topic, g.payload, g.qos]),
    [0, 1, 2].map((q) => [`app/p2p/${target}`, `at qos ${q}`, q]),
    'each once, in order, at the QoS it was published with',
  );
  for (const g of mine) {
    assert.deepEqual({ ...g.userProperties }, { trace: 'p2p-1' });
    assert.equal(g.correlation, 'corr-1');
  }
  // A client elsewhere that subscribed to the topic does not get it: it is for one client.
  const watcher = await connect(t, c.url, { ...alice, protocolVersion: 5 });
  const watched = collectAll(watcher);
  await watcher.subscribeAsync('app/p2p/#', { qos: 1 });
  await onA.publishAsync(`app/p2p/${target}`, 'only for the target', { qos: 1 });
  await waitFor(() => got.some((g) => g.payload === 'only for the target'), 5000, 'the message at the target');
  await sleep(300);
  assert.equal(watched.length, 0, 'no subscriber on another node got a point-to-point message');
});

test('STOMP SEND and the admin API on node A reach a client on node B point-to-point', async (t) => {
  const { target, got } = await targetOnB(t, 'p2p-stomp', 4);
  const stompPort = a.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp')!['port'] as number;
  const stomp = await RawStomp.connect(t, stompPort, { login: 'alice', passcode: 'alice-pw' });
  await stomp.request('SEND', { destination: `app/p2p/${target}` }, 'from stomp on A');
  const sent = await call(adminBase(a), 'POST', '/api/v1/publish', { topic: 'ops/notice', payload: 'from the operator on A', clientId: target, qos: 1 }, TOKEN);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await waitFor(() => got.some((g) => g.payload === 'from stomp on A') && got.some((g) => g.payload === 'from the operator on A'), 5000, 'both messages on node B');
  assert.equal(got.find((g) => g.payload === 'from the operator on A')!.topic, 'ops/notice');
});

test('a JT/T 808 terminal on node B gets a point-to-point command from node A only from a publisher allowed on its downlink', async (t) => {
  const term = await Terminal.connect(await jt808Port(b), PHONE);
  t.after(() => term.close());
  assert.equal(await term.response(0x0102, term.send(0x0102, { code: 'code-171' })), 0, 'terminal authenticated');
  const command = (text: string): string => JSON.stringify({ header: { msg_id: 0x8300 }, body: { flag: 1, text_type: 1, text } });
  const allowed = await connect(t, a.url, { ...alice, protocolVersion: 5 });
  let first: Awaited<ReturnType<typeof term.expect>> | null = null;
  for (let i = 0; first === null; i++) {
    assert.ok(i < 30, 'no point-to-point command reached the terminal on node B');
    await allowed.publishAsync(`app/p2p/${PHONE}`, command('from alice'), { qos: 1 });
    first = await term.expect('8300 from alice', (r) => r.header['msg_id'] === 0x8300 && r.body['text'] === 'from alice', 300).catch(() => null);
  }
  const refusedBefore = (await traffic(a, 'p2p-a'))['p2pRefused'] ?? 0;
  const denied = await connect(t, a.url, { ...bob, protocolVersion: 5 });
  const from = term.received.length;
  // Across nodes the check is made once the target's record is read, after the PUBACK: bob is not told, but nothing is sent.
  await denied.publishAsync(`app/p2p/${PHONE}`, command('from bob'), { qos: 1 });
  await eventually(async () => ((await traffic(a, 'p2p-a'))['p2pRefused'] ?? 0) > refusedBefore, 5000, "node A reports bob's command refused");
  await sleep(300);
  assert.ok(!term.received.slice(from).some((r) => r.header['msg_id'] === 0x8300), 'no command from a publisher without the right to the downlink');
});

test('a persistent session offline on node B gets point-to-point messages queued; moved to node C, it is followed there', async (t) => {
  const target = clientId('p2p-persistent');
  const opts = { ...dev, protocolVersion: 5 as const, clientId: target, clean: false, properties: { sessionExpiryInterval: 300 } };
  const first = await connect(t, b.url, opts);
  const got1 = collectAll(first);
  const pub = await connect(t, a.url, { ...alice, protocolVersion: 5 });
  await reachable(pub, target, got1);
  await first.endAsync();
  await pub.publishAsync(`app/p2p/${target}`, 'while offline', { qos: 1 });
  // Back on node B: the queued message arrives.
  const { client: second, got: got2 } = await connectWithQueue(t, b.url, opts);
  await waitFor(() => got2.some((g) => g.payload === 'while offline'), 5000, 'the queued message on reconnect');
  await second.endAsync();
  // Node A knows the client on B for two seconds; it moves to C meanwhile, and B passes the next message on.
  const passedBefore = (await traffic(b, 'p2p-b'))['p2pPassedOn'] ?? 0;
  await pub.publishAsync(`app/p2p/${target}`, 'warms the place', { qos: 1 });
  const warmed = Date.now();
  const { got: got3 } = await connectWithQueue(t, c.url, opts);
  await waitFor(() => got3.some((g) => g.payload === 'warms the place'), 5000, 'the message queued on B, moved with the session to C');
  await pub.publishAsync(`app/p2p/${target}`, 'after the move', { qos: 1 });
  const sinceWarm = Date.now() - warmed;
  await waitFor(() => got3.some((g) => g.payload === 'after the move'), 5000, 'the message sent after the move, on node C');
  await sleep(300);
  assert.equal(got3.filter((g) => g.payload === 'after the move').length, 1, 'once');
  // Within the two seconds node A sent it to B, which passed it on (on a slow machine A may have read the record again).
  if (sinceWarm < 1500) await eventually(async () => ((await traffic(b, 'p2p-b'))['p2pPassedOn'] ?? 0) > passedBefore, 5000, 'node B reports the message passed on');
});
