/**
 * The GB/T 32960 flags against a real broker process: TLS listener, AES-128 decryption and
 * scaled values, login and idle timeouts on the timer wheel, a port that cannot be bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { brokerFor, collect, connect, runBroker, type TestContext } from '../../interop/harness.js';
import { encodeReport } from '../../../src/protocols/gbt32960/codec/encode-infos.js';
import { aesEncrypt, parseAesKeyFile } from '../../../src/protocols/gbt32960/codec/crypto.js';
import { SAMPLE_ITEMS, TIME, VECTORS, VIN, Vehicle, frame, gbtPort, vinHook } from './helpers.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-gbt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('TLS listener: a vehicle logs in over TLS and its report is published', async (t) => {
  const dir = tempDir(t);
  const key = path.join(dir, 'server.key');
  const cert = path.join(dir, 'server.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  const hook = await vinHook(t, [VIN]);
  const broker = await brokerFor(t, { args: ['--gbt32960-tls-port', '0', '--tls-cert', cert, '--tls-key', key, '--auth-http-url', hook.url, '--allow-anonymous', '--store', 'memory'] });
  const backend = await connect(t, broker.url);
  await backend.subscribeAsync(`gbt32960/${VIN}/upstream/info`, { qos: 1 });
  const vehicle = await Vehicle.connectTls(t, gbtPort(broker, 'tls'), readFileSync(cert));
  vehicle.send(VECTORS.login);
  assert.equal((await vehicle.next(0x01)).flag, 0x01);
  const info = collect(backend, 1, 3000, 'info over TLS');
  vehicle.send(frame(0x02, encodeReport(TIME, [SAMPLE_ITEMS['Engine']!])));
  assert.equal(JSON.parse((await info)[0]!.payload.toString()).Data.Infos[0].Type, 'Engine');
});

test('AES-128 data units are decrypted with --gbt32960-aes-key-file; --gbt32960-values scaled applies units', async (t) => {
  const dir = tempDir(t);
  const keyFile = path.join(dir, 'aes.key');
  writeFileSync(keyFile, '000102030405060708090a0b0c0d0e0f\n');
  const hook = await vinHook(t, [VIN]);
  const broker = await brokerFor(t, {
    args: ['--gbt32960-port', '0', '--gbt32960-aes-key-file', keyFile, '--gbt32960-values', 'scaled', '--auth-http-url', hook.url, '--allow-anonymous', '--store', 'memory'],
  });
  assert.ok(!JSON.stringify(broker.logs).includes('000102030405060708090a0b0c0d0e0f'), 'the key never reaches the log');
  const backend = await connect(t, broker.url);
  await backend.subscribeAsync(`gbt32960/${VIN}/upstream/info`, { qos: 1 });
  const vehicle = await Vehicle.connect(t, gbtPort(broker));
  vehicle.send(VECTORS.login);
  await vehicle.next(0x01);
  const aes = parseAesKeyFile('000102030405060708090a0b0c0d0e0f', 'ecb');
  const info = collect(backend, 1, 3000, 'decrypted info');
  vehicle.send(frame(0x02, aesEncrypt(aes, encodeReport(TIME, [SAMPLE_ITEMS['Vehicle']!])), VIN, 0xfe, 0x03));
  const json = JSON.parse((await info)[0]!.payload.toString()) as { Encrypt: number; Data: { Infos: Record<string, unknown>[] } };
  assert.equal(json.Encrypt, 3, 'the encryption flag is reported');
  const v = json.Data.Infos[0]!;
  assert.deepEqual([v['Speed'], v['Voltage'], v['Current'], v['Mileage']], [200, 500, 500, 99999.9]);
});

test('login timeout and idle timeout close the connection; the idle one reports keepalive-timeout', async (t) => {
  const hook = await vinHook(t, [VIN]);
  const broker = await brokerFor(t, {
    args: ['--gbt32960-port', '0', '--gbt32960-login-timeout', '1', '--gbt32960-idle-timeout', '1', '--auth-http-url', hook.url, '--allow-anonymous', '--store', 'memory'],
  });
  const backend = await connect(t, broker.url);
  await backend.subscribeAsync(`$SYS/brokers/+/clients/${VIN}/disconnected`, { qos: 0 });
  const silent = await Vehicle.connect(t, gbtPort(broker));
  const vehicle = await Vehicle.connect(t, gbtPort(broker));
  vehicle.send(VECTORS.login);
  await vehicle.next(0x01);
  const offline = collect(backend, 1, 4000, 'disconnected event');
  await silent.waitClosed(3000);
  await vehicle.waitClosed(3000);
  assert.equal(JSON.parse((await offline)[0]!.payload.toString()).reason, 'keepalive-timeout');
});

test('a --gbt32960-port that cannot be bound stops the start with a message naming the flag', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const result = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--gbt32960-port', String(port)]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`--gbt32960-port ${port}: cannot listen on 127\\.0\\.0\\.1:${port} \\(the port is in use\\)`));
  } finally {
    blocker.close();
  }
  const noCert = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--gbt32960-tls-port', '0']);
  assert.match(noCert.stderr, /--gbt32960-tls-port needs --tls-cert and --tls-key/);
});
