/**
 * Login cost on a real broker with a password file: a device that logged in once gets in again
 * from the login cache even while its address backs off after a burst of wrong passwords, which
 * MQTT 5 hears as 0x9F and STOMP as an ERROR naming --auth-failure-backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, type Broker } from '../interop/harness.js';
import { randomBytes, scryptSync } from 'node:crypto';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { connectOutcome, tempDir, writeIn } from './helpers.js';

function stompPort(broker: Broker): number {
  const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp' && l['transport'] === 'tcp');
  if (line === undefined) throw new Error('no stomp listener in the broker log');
  return Number(line['port']);
}

test('wrong passwords make an address back off (0x9F, STOMP ERROR) without blocking a remembered device behind it', async (t) => {
  const dir = tempDir(t);
  // A cheap scrypt line (N=1024): what is checked is who gets hashed, not how long it takes.
  const salt = randomBytes(16);
  const hash = `$scrypt$N=1024,r=8,p=1$${salt.toString('base64')}$${scryptSync('pw1', salt, 64, { N: 1024, r: 8, p: 1 }).toString('base64')}`;
  const file = writeIn(dir, 'passwords', `dev1:${hash}\n`);
  const broker = await brokerFor(t, {
    args: ['--store', 'memory', '--password-file', file, '--auth-hash-threads', '1', '--auth-failures-allowed', '5', '--stomp-port', '0'],
  });
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 5, username: 'dev1', password: 'pw1' }), 0);
  const wrong = await Promise.all(Array.from({ length: 8 }, () => connectOutcome(broker.url, { protocolVersion: 5, username: 'dev1', password: 'guess' })));
  assert.deepEqual(
    wrong.sort((a, b) => a - b),
    [0x86, 0x86, 0x86, 0x86, 0x86, 0x9f, 0x9f, 0x9f],
  );
  const stomp = await RawStomp.open(t, stompPort(broker));
  stomp.send(stompFrame('CONNECT', { 'accept-version': '1.2', host: 'h', login: 'dev1', passcode: 'guess' }));
  const error = await stomp.next('ERROR');
  assert.match(error.header('message') ?? '', /--auth-failure-backoff/);
  // The device that logged in before is remembered: in at once, from the same address.
  assert.equal(await connectOutcome(broker.url, { protocolVersion: 5, username: 'dev1', password: 'pw1' }), 0);
});
