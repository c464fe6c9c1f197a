/**
 * A JWT names its client: the identity (the ACL's `user`, the session's owner) is the token's
 * `username` claim or its `sub`, never the CONNECT user name beside it. A user name that
 * disagrees is refused (MQTT 5 0x87, 3.1.1 return code 5, STOMP ERROR, JT/T 808 result 1); the
 * same for an HTTP hook that names the client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { brokerFor, clientId, connect, type Broker, type TestContext } from '../interop/harness.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { Terminal } from '../../bench/lib/jt808-terminal.js';
import { connectOutcome, subackCodes, tempDir, writeIn } from './helpers.js';

const SECRET = 'jwt-identity-secret-of-32-bytes-or-more';
const ACL = 'user admin\ntopic readwrite #\nuser bob\ntopic readwrite bob/#\nuser 013900000001\ntopic readwrite jt808/#\n';

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
}

function portOf(broker: Broker, protocol: string): number {
  const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === protocol && l['transport'] === 'tcp');
  if (line === undefined) throw new Error(`no ${protocol} listener`);
  return Number(line['port']);
}

async function jwtBroker(t: TestContext, extra: string[] = []): Promise<Broker> {
  const acl = writeIn(tempDir(t), 'acl', ACL);
  return brokerFor(t, { args: ['--store', 'memory', '--jwt-secret', SECRET, '--acl-file', acl, '--stomp-port', '0', '--jt808-port', '0', ...extra] });
}

test("JWT sub bob with CONNECT user name admin: refused on MQTT 5, 3.1.1, STOMP and JT/T 808; alone it gets bob's lines, not admin's", async (t) => {
  const broker = await jwtBroker(t);
  const bob = await token({ sub: 'bob' });
  assert.equal(await connectOutcome(broker.url, { username: 'admin', password: bob, protocolVersion: 5 }), 0x87, 'MQTT 5: 0x87');
  assert.equal(await connectOutcome(broker.url, { username: 'admin', password: bob, protocolVersion: 4 }), 5, 'MQTT 3.1.1: return code 5');
  const named = await token({ username: 'bob', sub: 'ignored' });
  assert.equal(await connectOutcome(broker.url, { username: 'admin', password: named, protocolVersion: 5 }), 0x87, 'the username claim names the client too');

  const stomp = await RawStomp.open(t, portOf(broker, 'stomp'));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', login: 'admin', passcode: bob }));
  const error = await stomp.next('ERROR');
  assert.match(error.header('message') ?? '', /not authorized/);

  // A terminal's user name is its phone number: a token for someone else is refused.
  const term = await Terminal.connect(portOf(broker, 'jt808'), '013900000001');
  t.after(() => term.close());
  assert.equal(await term.response(0x0102, term.send(0x0102, { code: bob })), 1, 'JT/T 808: result 1');
  const own = await Terminal.connect(portOf(broker, 'jt808'), '013900000001');
  t.after(() => own.close());
  assert.equal(await own.response(0x0102, own.send(0x0102, { code: await token({ sub: '013900000001' }) })), 0, 'a token naming the terminal is accepted');

  // With the same user name the token's identity decides the ACL lines.
  const c = await connect(t, broker.url, { username: 'bob', password: bob, protocolVersion: 5, clientId: clientId('bob') });
  assert.deepEqual(await subackCodes(c, ['bob/x', 'admin/x'], 0), [0, 0x87], "bob's rights only");
  // A token that names nobody gets the anonymous lines (none here), whatever user name is sent.
  const nameless = await connect(t, broker.url, { username: 'admin', password: await token({}), protocolVersion: 5, clientId: clientId('nameless') });
  assert.deepEqual(await subackCodes(nameless, ['admin/x'], 0), [0x87]);
});

test('an HTTP hook that names the client: a different CONNECT user name is refused; the same or none is admitted', async (t) => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'allow', username: 'bob' })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
  const acl = writeIn(tempDir(t), 'acl', ACL);
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--auth-http-url', url, '--acl-file', acl] });
  assert.equal(await connectOutcome(broker.url, { username: 'admin', password: 'x', protocolVersion: 5 }), 0x87);
  assert.equal(await connectOutcome(broker.url, { username: 'bob', password: 'x', protocolVersion: 5 }), 0);
  const c = await connect(t, broker.url, { username: 'bob', password: 'y', protocolVersion: 5, clientId: clientId('hooked') });
  assert.deepEqual(await subackCodes(c, ['bob/x', 'admin/x'], 0), [0, 0x87]);
});
