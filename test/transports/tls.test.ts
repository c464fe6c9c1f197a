/** MQTT over TLS and secure WebSocket (both node:tls; wss piped to uWebSockets.js) against a real broker process. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { MqttClient } from 'mqtt';
import { brokerFor, clientId, collect, connect, run, spawnCommand, startBroker, waitFor, type Broker } from '../interop/harness.js';
import { issue, makeCerts, portOf, startRefused, type Certs } from './helpers.js';

let certs: Certs;
let broker: Broker;
before(async () => {
  certs = makeCerts();
  broker = await startBroker({ args: ['--mqtts-port', '0', '--wss-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-ca', certs.ca, '--store', 'memory'] });
});
after(async () => {
  await broker.dispose();
  certs.remove();
});

/** The serial of the certificate a TLS handshake on `port` presents (needs no client certificate). */
function serialAt(port: number, options: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), ...options }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}

for (const [scheme, transport] of [
  ['mqtts', 'tls'],
  ['wss', 'wss'],
] as const) {
  for (const protocolVersion of [4, 5] as const) {
    test(`MQTT.js ${protocolVersion === 5 ? '5.0' : '3.1.1'} over ${scheme}: QoS 0, 1 and 2 round trips`, async (t) => {
      const port = await portOf(broker, transport);
      const url = scheme === 'wss' ? `wss://127.0.0.1:${port}/mqtt` : `mqtts://127.0.0.1:${port}`;
      const options = { protocolVersion, ca: readFileSync(certs.ca) };
      const sub = await connect(t, url, options);
      const pub = await connect(t, url, options);
      const topic = `${scheme}/v${protocolVersion}`;
      await sub.subscribeAsync(`${topic}/#`, { qos: 2 });
      const got = collect(sub, 3);
      for (const qos of [0, 1, 2] as const) await pub.publishAsync(`${topic}/${qos}`, `qos ${qos}`, { qos });
      const messages = (await got).map((m) => [m.topic, m.payload.toString(), m.packet.qos]).sort();
      assert.deepEqual(messages, [
        [`${topic}/0`, 'qos 0', 0],
        [`${topic}/1`, 'qos 1', 1],
        [`${topic}/2`, 'qos 2', 2],
      ]);
    });
  }
}

test('mosquitto_pub and mosquitto_sub with --cafile over mqtts', async (t) => {
  const port = String(await portOf(broker, 'tls'));
  const sub = spawnCommand(t, 'stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', port, '--cafile', certs.ca, '-t', 'mosq/tls', '-q', '1', '-C', '1', '-W', '10', '-d']);
  await waitFor(() => sub.output().includes('SUBACK'), 5000, `mosquitto_sub SUBACK (output: ${sub.output().slice(-300)})`);
  const pub = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '--cafile', certs.ca, '-t', 'mosq/tls', '-q', '1', '-m', 'over tls']);
  assert.equal(pub.code, 0, `mosquitto_pub exit code (stderr: ${pub.stderr})`);
  assert.equal(await sub.exited, 0);
  assert.match(sub.output(), /over tls/);
});

test('TLS below 1.2 is refused on mqtts and wss', async () => {
  for (const transport of ['tls', 'wss']) {
    await assert.rejects(serialAt(await portOf(broker, transport), { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }), /version|protocol|alert/i, `${transport} accepted TLS 1.1`);
  }
});

test('optional client certificates on wss, as on mqtts: a trusted one names the client, an untrusted one connects unnamed', async (t) => {
  const port = await portOf(broker, 'wss');
  const watcher = await connect(t, broker.url, { protocolVersion: 5 });
  const events = new Map<string, Record<string, unknown>>();
  watcher.on('message', (topic: string, payload: Buffer) => events.set(topic.split('/')[4]!, JSON.parse(payload.toString()) as Record<string, unknown>));
  await watcher.subscribeAsync('$SYS/brokers/+/clients/+/connected');
  const ca = readFileSync(certs.ca);
  const connectWith = async (cert: string, key: string): Promise<Record<string, unknown>> => {
    const id = clientId('wss-opt');
    await connect(t, `wss://127.0.0.1:${port}/mqtt`, { clientId: id, ca, cert: readFileSync(cert), key: readFileSync(key) });
    await waitFor(() => events.has(id), 3000, `the connected event of ${id}`);
    return events.get(id)!;
  };
  assert.equal((await connectWith(certs.clientCert, certs.clientKey))['username'], 'device-42');
  assert.equal((await connectWith(certs.sanCert, certs.sanKey))['username'], 'device-san', 'the first SAN without a CN');
  assert.equal((await connectWith(certs.otherCert, certs.otherKey))['username'], null, 'a certificate --tls-ca does not verify names nobody');
});

test('--tls-require-client-cert: mosquitto clients with --cert/--key get in, clients without one or with an untrusted one do not', async (t) => {
  const strict = await brokerFor(t, { args: ['--mqtts-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-ca', certs.ca, '--tls-require-client-cert', '--store', 'memory'] });
  const port = String(await portOf(strict, 'tls'));
  const base = ['-h', '127.0.0.1', '-p', port, '--cafile', certs.ca, '-t', 'certs/in', '-q', '1', '-m', 'hello'];
  const withCert = await run('mosquitto_pub', [...base, '--cert', certs.clientCert, '--key', certs.clientKey]);
  assert.equal(withCert.code, 0, `with a client certificate (stderr: ${withCert.stderr})`);
  const without = await run('mosquitto_pub', base);
  assert.notEqual(without.code, 0, 'without a client certificate the connection must fail');
  const untrusted = await run('mosquitto_pub', [...base, '--cert', certs.otherCert, '--key', certs.otherKey]);
  assert.notEqual(untrusted.code, 0, 'a certificate not signed by --tls-ca must fail');
});

test('SIGHUP reloads the certificates of mqtts and wss: new handshakes see the new serial, open connections stay up and keep working', async (t) => {
  const dir = certs.dir;
  const certFile = `${dir}/reload.crt`;
  const keyFile = `${dir}/reload.key`;
  copyFileSync(certs.cert, certFile);
  copyFileSync(certs.key, keyFile);
  const b = await brokerFor(t, { args: ['--mqtts-port', '0', '--wss-port', '0', '--tls-cert', certFile, '--tls-key', keyFile, '--store', 'memory'] });
  const ports = { tls: await portOf(b, 'tls'), wss: await portOf(b, 'wss') };
  const ca = readFileSync(certs.ca);
  const oldSerial = await serialAt(ports.tls);
  assert.equal(await serialAt(ports.wss), oldSerial);
  const before: Record<string, MqttClient> = {
    tls: await connect(t, `mqtts://127.0.0.1:${ports.tls}`, { ca }),
    wss: await connect(t, `wss://127.0.0.1:${ports.wss}/mqtt`, { ca }),
  };

  const [newCert, newKey] = issue(dir, 'renewed', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  copyFileSync(newCert, certFile);
  copyFileSync(newKey, keyFile);
  b.process.kill('SIGHUP');
  await waitFor(() => b.logs.some((l) => l['msg'] === 'TLS certificates reloaded'), 3000, 'the "TLS certificates reloaded" log line');

  for (const transport of ['tls', 'wss'] as const) {
    assert.notEqual(await serialAt(ports[transport]), oldSerial, `${transport} presents the new certificate`);
  }
  // Each old connection publishes to the other across the reload: both stay up and keep exchanging messages.
  for (const [name, client] of Object.entries(before)) {
    assert.equal(client.connected, true, `the ${name} connection opened before the reload is still up`);
    await client.subscribeAsync(`reload/${name}`, { qos: 1 });
  }
  const toWss = collect(before['wss']!, 1);
  const toTls = collect(before['tls']!, 1);
  await before['tls']!.publishAsync('reload/wss', 'from the old mqtts connection', { qos: 1 });
  await before['wss']!.publishAsync('reload/tls', 'from the old wss connection', { qos: 1 });
  assert.equal((await toWss)[0]!.payload.toString(), 'from the old mqtts connection');
  assert.equal((await toTls)[0]!.payload.toString(), 'from the old wss connection');
  const fresh = await connect(t, `wss://127.0.0.1:${ports.wss}/mqtt`, { ca });
  assert.equal(fresh.connected, true, 'a new wss connection works after the reload');
});

test('TLS misconfiguration stops the start with a message naming the flags', async () => {
  const noCert = await startRefused(['--mqtts-port', '0', '--wss-port', '0']);
  assert.equal(noCert.code, 2);
  assert.match(noCert.stderr, /--mqtts-port needs --tls-cert and --tls-key/);
  const badKey = await startRefused(['--mqtts-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.ca]);
  assert.equal(badKey.code, 2);
  assert.match(badKey.stderr, /cannot load the TLS certificate files \(--tls-cert/);
  const noCa = await startRefused(['--mqtts-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-require-client-cert']);
  assert.equal(noCa.code, 2);
  assert.match(noCa.stderr, /--tls-require-client-cert needs --tls-ca/);
  const wssNoCa = await startRefused(['--wss-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key, '--tls-require-client-cert']);
  assert.equal(wssNoCa.code, 2);
  assert.match(wssNoCa.stderr, /--tls-require-client-cert needs --tls-ca/);
  const wssPort = await portOf(broker, 'wss');
  const busy = await startRefused(['--wss-port', String(wssPort), '--tls-cert', certs.cert, '--tls-key', certs.key]);
  assert.equal(busy.code, 2);
  assert.match(busy.stderr, new RegExp(`--wss-port ${wssPort}: cannot listen on 127\\.0\\.0\\.1:${wssPort}`));
});
