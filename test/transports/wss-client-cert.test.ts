/**
 * --tls-require-client-cert on secure WebSocket, against a real broker process: MQTT.js over
 * wss gets in only with a certificate signed by --tls-ca; its CN is the username the ACL file
 * applies; $SYS connect events carry the client's real address, not the front's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { clientId, collect, connect, startBroker, waitFor, type Broker } from '../interop/harness.js';
import { subackCodes, tempDir, writeIn } from '../security/helpers.js';
import { makeCerts, portOf, type Certs } from './helpers.js';

const NODE = 'wss-node';
let certs: Certs;
let broker: Broker;
let url: string;
let watcher: MqttClient;
const connected = new Map<string, Record<string, unknown>>();

before(async () => {
  certs = makeCerts();
  const dir = tempDir(null);
  // Rules before the first user line are the anonymous watcher's (TCP on loopback).
  const acl = writeIn(dir, 'acl', 'topic read $SYS/#\n\nuser device-42\ntopic readwrite devices/device-42/#\n');
  broker = await startBroker({
    args: ['--wss-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-ca', certs.ca, '--tls-require-client-cert', '--acl-file', acl, '--node-name', NODE, '--store', 'memory'],
  });
  url = `wss://127.0.0.1:${await portOf(broker, 'wss')}/mqtt`;
  watcher = await connect(null, broker.url, { protocolVersion: 5 });
  watcher.on('message', (topic: string, payload: Buffer) => connected.set(topic.split('/')[4]!, JSON.parse(payload.toString()) as Record<string, unknown>));
  assert.deepEqual(await subackCodes(watcher, `$SYS/brokers/${NODE}/clients/+/connected`, 0), [0]);
});
after(async () => {
  watcher.end(true);
  await broker.dispose();
  certs.remove();
});

/** Options of a client presenting `cert`/`key` (or no certificate). */
function tlsOptions(cert?: string, key?: string): IClientOptions {
  return { ca: readFileSync(certs.ca), ...(cert !== undefined && key !== undefined ? { cert: readFileSync(cert), key: readFileSync(key) } : {}) };
}

/** Resolves with what stopped a connect attempt that must fail; rejects if the client got in. */
function refused(options: IClientOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 4000, clientId: clientId('wss-refused'), ...options });
    const timer = setTimeout(() => finish(null, 'no error within 5 s'), 5000);
    const finish = (err: Error | null, why: string): void => {
      clearTimeout(timer);
      client.end(true);
      if (err === null) reject(new Error(why));
      else resolve(err.message);
    };
    client.once('connect', () => finish(null, 'the client connected'));
    client.once('error', (err) => finish(err, ''));
    client.once('close', () => finish(new Error('closed'), ''));
  });
}

test('with a certificate signed by --tls-ca, MQTT.js over wss connects and its CN is the identity the ACL applies', async (t) => {
  const id = clientId('wss-cert');
  const client = await connect(t, url, { ...tlsOptions(certs.clientCert, certs.clientKey), clientId: id, protocolVersion: 5 });
  assert.deepEqual(await subackCodes(client, 'devices/device-42/cmd', 1), [1], "device-42's own topic");
  assert.deepEqual(await subackCodes(client, 'devices/device-43/#', 1), [0x87], "another device's topic is refused");
  const got = collect(client, 1);
  await client.publishAsync('devices/device-42/cmd', 'for device 42', { qos: 1 });
  assert.equal((await got)[0]!.payload.toString(), 'for device 42');
  await waitFor(() => connected.has(id), 3000, `the connected event of ${id}`);
  assert.equal(connected.get(id)!['username'], 'device-42');
});

test('without a client certificate, or with one --tls-ca does not sign, the wss connection is refused', async () => {
  assert.ok((await refused(tlsOptions())).length > 0);
  assert.ok((await refused(tlsOptions(certs.otherCert, certs.otherKey))).length > 0);
  // The refusal is TLS's own: the handshake fails, nothing reaches the WebSocket layer.
  const port = await portOf(broker, 'wss');
  const handshake = new Promise<void>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the TLS connection without a certificate is still open after 3 s'));
    }, 3000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => {});
  });
  await handshake;
});

test("the connected event on $SYS carries the client's real address and transport", async (t) => {
  const id = clientId('wss-addr');
  await connect(t, url, { ...tlsOptions(certs.clientCert, certs.clientKey), clientId: id });
  await waitFor(() => connected.has(id), 3000, `the connected event of ${id}`);
  const event = connected.get(id)!;
  assert.equal(event['ipaddress'], '127.0.0.1');
  assert.equal(event['transport'], 'wss');
});
