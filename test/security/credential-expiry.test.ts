/**
 * Credentials that expire: a JWT must carry `exp` (unless --no-jwt-require-exp), and a client is
 * disconnected when its token expires, whatever the protocol (MQTT 5 DISCONNECT 0x87, 3.1.1 the
 * connection closes, STOMP ERROR, JT/T 808 the connection closes). A device signature is bound
 * to the time it was made: an old one (replayed) or one in the old untimed form is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { IDisconnectPacket } from 'mqtt';
import { brokerFor, clientId, connect, waitFor, type Broker } from '../interop/harness.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { Terminal } from '../../bench/lib/jt808-terminal.js';
import { deviceSignature, hmacSha1 } from '../../src/security/device-signature.js';
import { connectOutcome, tempDir, writeIn } from './helpers.js';

const SECRET = 'expiry-test-secret-of-32-bytes-or-more';
const PHONE = '013966660001';

function sign(claims: Record<string, unknown>, exp?: number): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' });
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

function portOf(broker: Broker, protocol: string): number {
  const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === protocol && l['transport'] === 'tcp');
  if (line === undefined) throw new Error(`no ${protocol} listener`);
  return Number(line['port']);
}

test('a JWT without exp is refused by default on MQTT and STOMP; --no-jwt-require-exp admits it', async (t) => {
  const forever = await sign({ sub: 'dev' });
  const strict = await brokerFor(t, { args: ['--store', 'memory', '--jwt-secret', SECRET, '--stomp-port', '0'] });
  assert.equal(await connectOutcome(strict.url, { username: 'dev', password: forever, protocolVersion: 5 }), 0x86);
  assert.equal(await connectOutcome(strict.url, { username: 'dev', password: forever, protocolVersion: 4 }), 4);
  const stomp = await RawStomp.open(t, portOf(strict, 'stomp'));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', login: 'dev', passcode: forever }));
  assert.match((await stomp.next('ERROR')).header('message') ?? '', /bad login or passcode/);
  const relaxed = await brokerFor(t, { args: ['--store', 'memory', '--jwt-secret', SECRET, '--no-jwt-require-exp'] });
  assert.equal(await connectOutcome(relaxed.url, { username: 'dev', password: forever, protocolVersion: 5 }), 0);
});

test('a client is disconnected when its JWT expires: MQTT 5 DISCONNECT 0x87, 3.1.1 closed, STOMP ERROR, JT/T 808 closed', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--jwt-secret', SECRET, '--stomp-port', '0', '--jt808-port', '0'] });
  const exp = Math.floor(Date.now() / 1000) + 2;
  const token = await sign({ sub: 'dev' }, exp);
  const v5 = await connect(t, broker.url, { username: 'dev', password: token, protocolVersion: 5, clientId: clientId('v5') });
  let reason = -1;
  v5.on('disconnect', (packet: IDisconnectPacket) => (reason = packet.reasonCode ?? 0));
  const v4 = await connect(t, broker.url, { username: 'dev', password: token, protocolVersion: 4, clientId: clientId('v4') });
  let v4Closed = false;
  v4.on('close', () => (v4Closed = true));
  const stomp = await RawStomp.open(t, portOf(broker, 'stomp'));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', login: 'dev', passcode: token, 'heart-beat': '0,0' }));
  await stomp.next('CONNECTED');
  const term = await Terminal.connect(portOf(broker, 'jt808'), PHONE);
  t.after(() => term.close());
  assert.equal(await term.response(0x0102, term.send(0x0102, { code: await sign({ sub: PHONE }, exp) })), 0, 'terminal online');
  assert.equal(v5.connected && v4.connected && !term.closed, true, 'everyone online before exp');

  await waitFor(() => reason !== -1 && v4Closed && term.closed, 8000, 'every client disconnected after exp');
  assert.equal(reason, 0x87, 'MQTT 5: DISCONNECT Not authorized');
  assert.match((await stomp.next('ERROR', 8000)).header('message') ?? '', /credentials expired/);
  await stomp.closedWithin(2000);
  assert.ok(Date.now() >= exp * 1000, 'not before the token expired');
});

test('device signatures: a fresh timed one logs in; one made 10 minutes ago (a replay) or the old untimed form is refused', async (t) => {
  const keys = writeIn(tempDir(t), 'keys.json', JSON.stringify({ instanceId: 'inst', accessKeys: { AK1: 'ak-secret' } }));
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--device-keys-file', keys] });
  const id = clientId('device');
  const username = 'Signature|AK1|inst';
  assert.equal(await connectOutcome(broker.url, { clientId: id, username, password: deviceSignature('ak-secret', id), protocolVersion: 5 }), 0);
  const replayed = deviceSignature('ak-secret', id, Date.now() - 600_000);
  assert.equal(await connectOutcome(broker.url, { clientId: id, username, password: replayed, protocolVersion: 5 }), 0x86);
  assert.equal(await connectOutcome(broker.url, { clientId: id, username, password: hmacSha1('ak-secret', id), protocolVersion: 4 }), 4);
  await waitFor(() => broker.logs.some((l) => String(l['detail'] ?? '').startsWith('signature without a timestamp')), 3000, 'the log says what the new form is');
});
