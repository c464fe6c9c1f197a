/**
 * Online/offline events end to end: $SYS/brokers/{node}/clients/{clientid}/connected and
 * .../disconnected carry username, address, protocol and version, time, and the reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { hashPassword } from '../../src/security/password-hash.js';
import { clientId, connect, dropSocket, rawClient, startBroker, waitFor, type Broker } from '../interop/harness.js';
import { PacketType, connectPacket } from '../interop/wire.js';
import { connectOutcome, subackCodes, tempDir, writeIn } from './helpers.js';

const NODE = 'events-node';
let broker: Broker;
let watcher: MqttClient;
const events: Array<{ topic: string; body: Record<string, unknown> }> = [];

before(async () => {
  const dir = tempDir(null);
  const pw = writeIn(dir, 'pw', `dave:${await hashPassword('dave-pw')}\n`);
  broker = await startBroker({ args: ['--password-file', pw, '--allow-anonymous', '--node-name', NODE] });
  watcher = await connect(null, broker.url, { protocolVersion: 5, clientId: 'event-watcher' });
  assert.deepEqual(await subackCodes(watcher, `$SYS/brokers/${NODE}/clients/#`, 0), [0]);
  watcher.on('message', (topic: string, payload: Buffer) => events.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
});
after(async () => {
  watcher.end(true);
  await broker.dispose();
});

async function eventFor(id: string, what: 'connected' | 'disconnected'): Promise<Record<string, unknown>> {
  const topic = `$SYS/brokers/${NODE}/clients/${id}/${what}`;
  await waitFor(() => events.some((e) => e.topic === topic), 4000, `${what} event of ${id}`);
  return events.find((e) => e.topic === topic)!.body;
}

test('connect and normal disconnect: username, address, protocol, version, time', async () => {
  const id = clientId('ev');
  const before = Date.now();
  const c = await connect(null, broker.url, { clientId: id, username: 'dave', password: 'dave-pw', protocolVersion: 4 });
  const on = await eventFor(id, 'connected');
  assert.equal(on['clientid'], id);
  assert.equal(on['username'], 'dave');
  assert.equal(on['ipaddress'], '127.0.0.1');
  assert.equal(on['protocol'], 'mqtt');
  assert.equal(on['proto_ver'], '3.1.1');
  assert.ok(typeof on['ts'] === 'number' && on['ts'] >= before && on['ts'] <= Date.now() + 1000, 'time in ms since the epoch');
  await c.endAsync();
  const off = await eventFor(id, 'disconnected');
  assert.equal(off['reason'], 'normal');
  assert.equal(off['username'], 'dave');
  assert.ok(typeof on['port'] === 'number' && on['port'] > 0, "the client's port");
  assert.deepEqual([off['ipaddress'], off['port']], ['127.0.0.1', on['port']], 'the peer is still told once the socket is closed');
});

test('connection lost, takeover, protocol error, keep-alive timeout and authentication failure each say so', async () => {
  const lost = clientId('lost');
  dropSocket(await connect(null, broker.url, { clientId: lost, protocolVersion: 5 }));
  const gone = await eventFor(lost, 'disconnected');
  assert.deepEqual([gone['reason'], gone['ipaddress']], ['connection-lost', '127.0.0.1'], 'a socket the kernel closed still names its peer');

  const taken = clientId('taken');
  const first = await connect(null, broker.url, { clientId: taken, protocolVersion: 5 });
  first.on('error', () => {});
  const second = await connect(null, broker.url, { clientId: taken, protocolVersion: 5 });
  assert.equal((await eventFor(taken, 'disconnected'))['reason'], 'takeover');
  second.end(true);
  first.end(true);

  const bad = clientId('bad');
  const raw = await rawClient(null, broker.port, 4);
  raw.send(connectPacket({ version: 4, clientId: bad }));
  await raw.next(PacketType.CONNACK);
  raw.send(Buffer.from([0x00, 0x00]));
  assert.equal((await eventFor(bad, 'disconnected'))['reason'], 'protocol-error');
  raw.close();

  const idle = clientId('idle');
  const quiet = await rawClient(null, broker.port, 4);
  quiet.send(connectPacket({ version: 4, clientId: idle, keepalive: 1 }));
  await quiet.next(PacketType.CONNACK);
  assert.equal((await eventFor(idle, 'disconnected'))['reason'], 'keepalive-timeout');
  quiet.close();

  const intruder = clientId('intruder');
  assert.equal(await connectOutcome(broker.url, { clientId: intruder, username: 'dave', password: 'wrong', protocolVersion: 5 }), 0x86);
  const refused = await eventFor(intruder, 'disconnected');
  assert.equal(refused['reason'], 'auth-failure');
  assert.ok(!JSON.stringify(refused).includes('wrong'), 'no password in the event');
});

test('a client id with / + # is one escaped topic level, never a filter or extra levels', async () => {
  const id = 'odd/id+#';
  const c = await connect(null, broker.url, { clientId: id, protocolVersion: 5 });
  const escaped = 'odd%2Fid%2B%23';
  const on = await eventFor(escaped, 'connected');
  assert.equal(on['clientid'], id, 'the body keeps the real id');
  assert.ok(!events.some((e) => e.topic.includes('/odd/')), 'no event under a split topic');
  c.end(true);
});
