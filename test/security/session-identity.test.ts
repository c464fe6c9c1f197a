/**
 * A session belongs to the identity that created it: another identity using its client id is
 * refused (MQTT 5 CONNACK 0x85, 3.1.1 return code 2, STOMP ERROR, JT/T 808 result 1, GB/T 32960
 * login error), whatever the protocol of either side, anonymous or named, and after a restart;
 * the owner finds her session, subscriptions and queued messages untouched. With
 * --allow-identity-takeover the session passes over, but `%c` patterns grant the taker nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/security/password-hash.js';
import { brokerFor, clientId, connect, connectCollecting, type Broker, type TestContext } from '../interop/harness.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { Terminal } from '../../bench/lib/jt808-terminal.js';
import { Vehicle, frame as gbtFrame, loginData } from '../protocols/gbt32960/helpers.js';
import { connectOutcome, subackCodes, tempDir, writeIn } from './helpers.js';

const PHONE = '013977770001';
const VIN = 'LJNCTSESSION00001';
const ACL = 'user alice\ntopic readwrite alice/#\nuser bob\ntopic readwrite bob/#\npattern readwrite devices/%c/#\n';
const alice = { username: 'alice', password: 'alice-pw' };
const bob = { username: 'bob', password: 'bob-pw' };

function portOf(broker: Broker, protocol: string): number {
  // The last one: a restart listens again on new ports for port 0.
  const line = [...broker.logs].reverse().find((l) => l['msg'] === 'listening' && l['protocol'] === protocol && l['transport'] === 'tcp');
  if (line === undefined) throw new Error(`no ${protocol} listener`);
  return Number(line['port']);
}

/** A hook that admits vehicles by VIN (GB/T 32960 logins carry no password) and leaves the rest to the password file. */
async function vehicleHook(t: TestContext): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const info = JSON.parse(body) as { protocol: string };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: info.protocol.startsWith('gbt32960') ? 'allow' : 'ignore' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
}

async function identityBroker(t: TestContext, extra: string[] = []): Promise<Broker> {
  const dir = tempDir(t);
  const users = [`alice:${await hashPassword('alice-pw')}`, `bob:${await hashPassword('bob-pw')}`, `${PHONE}:${await hashPassword('code')}`];
  const pw = writeIn(dir, 'pw', users.join('\n') + '\n');
  const acl = writeIn(dir, 'acl', ACL);
  const hook = await vehicleHook(t);
  return brokerFor(t, {
    args: ['--password-file', pw, '--acl-file', acl, '--auth-http-url', hook, '--allow-anonymous', '--stomp-port', '0', '--jt808-port', '0', '--gbt32960-port', '0', ...extra],
  });
}

const persistent = { clean: false, properties: { sessionExpiryInterval: 3600 } } as const;

async function stompLogin(t: TestContext, broker: Broker, headers: Record<string, string>): Promise<string> {
  const c = await RawStomp.open(t, portOf(broker, 'stomp'));
  c.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', 'heart-beat': '0,0', ...headers }));
  const answer = await c.next();
  return answer.command === 'ERROR' ? `ERROR ${answer.header('message') ?? ''}` : answer.command;
}

test("another identity cannot take alice's session on any protocol, nor after a restart; alice finds it intact", async (t) => {
  const broker = await identityBroker(t);
  const id = clientId('alice');
  const a = await connect(t, broker.url, { ...alice, ...persistent, protocolVersion: 5, clientId: id });
  assert.deepEqual(await subackCodes(a, 'alice/q', 1), [1]);
  a.end();
  const pub = await connect(t, broker.url, { ...alice, protocolVersion: 5 });
  await pub.publishAsync('alice/q', 'queued', { qos: 1 });

  const attempts = async (when: string): Promise<void> => {
    assert.equal(await connectOutcome(broker.url, { ...bob, ...persistent, protocolVersion: 5, clientId: id }), 0x85, `${when}: MQTT 5 bob, clean start 0`);
    assert.equal(await connectOutcome(broker.url, { ...bob, protocolVersion: 5, clean: true, clientId: id }), 0x85, `${when}: MQTT 5 bob, clean start 1`);
    assert.equal(await connectOutcome(broker.url, { ...bob, clean: false, protocolVersion: 4, clientId: id }), 2, `${when}: 3.1.1 bob: return code 2`);
    assert.equal(await connectOutcome(broker.url, { ...persistent, protocolVersion: 5, clientId: id }), 0x85, `${when}: an anonymous client`);
    assert.match(await stompLogin(t, broker, { login: 'bob', passcode: 'bob-pw', 'client-id': id }), /^ERROR .*client id is in use by another identity/, `${when}: STOMP client-id`);
  };
  await attempts('live broker');
  await broker.restart();
  await attempts('after a restart');

  const back = await connectCollecting(t, broker.url, { ...alice, ...persistent, protocolVersion: 5, clientId: id }, 1, 3000);
  assert.equal(back.connack.sessionPresent, true, 'her session is still there');
  assert.deepEqual(
    (await back.received).map((m) => m.payload.toString()),
    ['queued'],
    'with her queued message',
  );
});

test('a named session is not taken by an anonymous client and an anonymous one not by a named client; terminals and vehicles alike', async (t) => {
  const broker = await identityBroker(t);
  // An anonymous session: named clients stay out.
  const anonId = clientId('anon');
  const anon = await connect(t, broker.url, { ...persistent, protocolVersion: 5, clientId: anonId });
  anon.end();
  assert.equal(await connectOutcome(broker.url, { ...alice, ...persistent, protocolVersion: 5, clientId: anonId }), 0x85);
  assert.equal(await connectOutcome(broker.url, { ...persistent, protocolVersion: 5, clientId: anonId }), 0, 'another anonymous client may: nothing tells two of them apart');

  // alice holds a session under a terminal's phone number: the terminal (identity: its phone) is refused.
  const holder = await connect(t, broker.url, { ...alice, ...persistent, protocolVersion: 5, clientId: PHONE });
  const term = await Terminal.connect(portOf(broker, 'jt808'), PHONE);
  t.after(() => term.close());
  assert.equal(await term.response(0x0102, term.send(0x0102, { code: 'code' })), 1, 'JT/T 808: result 1');
  assert.equal(holder.connected, true, "alice's connection was not taken over");

  // A vehicle's session (identity: its VIN, from the hook): bob cannot take it, nor can another anonymous client.
  const vehicle = await Vehicle.connect(t, portOf(broker, 'gbt32960'));
  vehicle.send(gbtFrame(0x01, loginData(), VIN));
  assert.equal((await vehicle.next(0x01)).flag, 0x01, 'the vehicle logged in');
  assert.equal(await connectOutcome(broker.url, { ...bob, protocolVersion: 5, clientId: VIN }), 0x85);
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 4, clientId: VIN }), 2);
  // The same vehicle logging in again is the same identity: it takes its own session over.
  const again = await Vehicle.connect(t, portOf(broker, 'gbt32960'));
  again.send(gbtFrame(0x01, loginData(), VIN));
  assert.equal((await again.next(0x01)).flag, 0x01);
});

test('--allow-identity-takeover: bob gets the session, but %c patterns give him no rights on the client id', async (t) => {
  const broker = await identityBroker(t, ['--allow-identity-takeover']);
  const id = clientId('dev');
  const a = await connect(t, broker.url, { ...alice, ...persistent, protocolVersion: 5, clientId: id });
  assert.deepEqual(await subackCodes(a, `devices/${id}/cmd`, 1), [1], "alice's %c right");
  a.end();
  const taker = await connectCollecting(t, broker.url, { ...bob, ...persistent, protocolVersion: 5, clientId: id }, 0, 300);
  assert.equal(taker.connack.sessionPresent, true, 'the session passed over');
  assert.deepEqual(await subackCodes(taker.client, [`devices/${id}/up`, 'bob/x'], 1), [0x87, 1], 'no %c right for a client id bob does not own');
  await taker.received;
});
